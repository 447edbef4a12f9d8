using System.Runtime.InteropServices;

namespace ActorFace.Host.Commands.GpuCheck;

/// <summary>
/// Memory in use on the current CUDA device (total − free from cudaMemGetInfo: what the caching allocator holds plus
/// the context), read through the CUDA runtime that libtorch already loaded. TorchSharp 0.107 exposes no allocator
/// statistics, so the peak is sampled after every step; the PyTorch peer reports max_memory_reserved, the closest
/// equivalent.
/// </summary>
public static class DeviceMemory
{
    private delegate int MemGetInfo(out nuint free, out nuint total);
    private static readonly Lazy<MemGetInfo?> Function = new(Load);

    public static bool IsAvailable => Function.Value is not null;

    public static long InUse()
    {
        var f = Function.Value ?? throw new InvalidOperationException("libcudart was not found: no device memory figures");
        var rc = f(out var free, out var total);
        if (rc != 0) throw new InvalidOperationException($"cudaMemGetInfo failed with error {rc}");
        return (long)(total - free);
    }

    private static MemGetInfo? Load()
    {
        foreach (var name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so" })
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "cudaMemGetInfo", out var fn))
                return Marshal.GetDelegateForFunctionPointer<MemGetInfo>(fn);
        return null;
    }
}
