using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Runtime;

/// <summary>
/// Raw access to a tensor's bytes, so that collectives, Partial FC and the batch collator move memory with spans instead of element loops.
/// Only contiguous tensors are exposed; callers make a contiguous working copy when needed.
/// </summary>
internal static unsafe class TensorMemory
{
    // TorchSharp exposes no public data pointer; THSTensor_data returns at::Tensor::data_ptr() (storage offset included).
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    public static IntPtr DataPointer(Tensor tensor)
    {
        if (!tensor.is_contiguous())
            throw new ArgumentException("collective buffers must be contiguous", nameof(tensor));
        return tensor.numel() == 0 ? IntPtr.Zero : THSTensor_data(tensor.Handle);
    }

    public static byte* Bytes(Tensor tensor) => (byte*)DataPointer(tensor);

    public static long ByteCount(Tensor tensor) => tensor.numel() * tensor.element_size();

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new NotSupportedException($"collectives do not support dtype {type}"),
    };

    /// <summary>Product of every dimension after the first (1 for a 1-D tensor): the elements of one dim-0 row.</summary>
    public static long RowElements(Tensor tensor)
    {
        long n = 1;
        for (int i = 1; i < tensor.dim(); i++) n *= tensor.shape[i];
        return n;
    }

    /// <summary>A stable fingerprint of dims 1.. so that ranks can detect mismatched row shapes.</summary>
    public static long TrailingShapeHash(Tensor tensor)
    {
        long h = 1469598103934665603L;
        for (int i = 1; i < tensor.dim(); i++) h = (h ^ tensor.shape[i]) * 1099511628211L;
        return h ^ tensor.dim();
    }

    public static string Describe(Tensor tensor) => $"{tensor.dtype}[{string.Join(",", tensor.shape)}]";

    /// <summary>
    /// A contiguous CPU tensor to run a collective on, and a way to write results back when it is a copy
    /// (non-contiguous input, or a device tensor on a CPU backend).
    /// </summary>
    public static Tensor Workable(Tensor tensor, out bool isCopy)
    {
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous()) { isCopy = false; return tensor; }
        isCopy = true;
        using var _ = torch.no_grad();
        return tensor.detach().cpu().contiguous();
    }

    public static void WriteBack(Tensor target, Tensor work, bool isCopy)
    {
        if (!isCopy) return;
        using var _ = torch.no_grad();
        target.copy_(work);
        work.Dispose();
    }
}
