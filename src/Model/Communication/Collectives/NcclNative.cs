using System.Runtime.InteropServices;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// libnccl.so.2 entry points, bound lazily through NativeLibrary so that the assembly loads (and everything else
/// works) on machines without CUDA or NCCL.
/// </summary>
internal static unsafe class NcclNative
{
    public const int UniqueIdBytes = 128;

    [StructLayout(LayoutKind.Sequential, Size = UniqueIdBytes)]
    public struct UniqueId { public fixed byte Internal[UniqueIdBytes]; }

    public enum DataType { Int8 = 0, Uint8 = 1, Int32 = 2, Uint32 = 3, Int64 = 4, Uint64 = 5, Float16 = 6, Float32 = 7, Float64 = 8, BFloat16 = 9 }
    public enum RedOp { Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4 }

    static readonly Lazy<(IntPtr Handle, string Error)> library = new(Load);

    static (IntPtr, string) Load()
    {
        foreach (var name in new[] { "libnccl.so.2", "libnccl.so" })
            if (NativeLibrary.TryLoad(name, out var handle)) return (handle, "");
        return (IntPtr.Zero, "libnccl.so.2 could not be loaded (NCCL is not installed or not on the loader path)");
    }

    public static bool TryLoad(out string error)
    {
        error = library.Value.Error;
        return library.Value.Handle != IntPtr.Zero;
    }

    static IntPtr Export(string name)
    {
        if (!TryLoad(out var error)) throw new DllNotFoundException(error);
        return NativeLibrary.GetExport(library.Value.Handle, name);
    }

    static IntPtr getUniqueId, commInitRank, allReduce, allGather, reduceScatter, broadcast, commAbort, commDestroy,
        groupStart, groupEnd, getErrorString, commGetAsyncError;

    static IntPtr Fn(ref IntPtr slot, string name) => slot != IntPtr.Zero ? slot : slot = Export(name);

    public static int GetUniqueId(UniqueId* id) =>
        ((delegate* unmanaged[Cdecl]<UniqueId*, int>)Fn(ref getUniqueId, "ncclGetUniqueId"))(id);

    public static int CommInitRank(IntPtr* comm, int nranks, UniqueId id, int rank) =>
        ((delegate* unmanaged[Cdecl]<IntPtr*, int, UniqueId, int, int>)Fn(ref commInitRank, "ncclCommInitRank"))(comm, nranks, id, rank);

    public static int AllReduce(IntPtr send, IntPtr recv, nuint count, DataType type, RedOp op, IntPtr comm, IntPtr stream) =>
        ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Fn(ref allReduce, "ncclAllReduce"))
        (send, recv, count, (int)type, (int)op, comm, stream);

    public static int AllGather(IntPtr send, IntPtr recv, nuint sendCount, DataType type, IntPtr comm, IntPtr stream) =>
        ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, IntPtr, IntPtr, int>)Fn(ref allGather, "ncclAllGather"))
        (send, recv, sendCount, (int)type, comm, stream);

    public static int ReduceScatter(IntPtr send, IntPtr recv, nuint recvCount, DataType type, RedOp op, IntPtr comm, IntPtr stream) =>
        ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Fn(ref reduceScatter, "ncclReduceScatter"))
        (send, recv, recvCount, (int)type, (int)op, comm, stream);

    public static int Broadcast(IntPtr send, IntPtr recv, nuint count, DataType type, int root, IntPtr comm, IntPtr stream) =>
        ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Fn(ref broadcast, "ncclBroadcast"))
        (send, recv, count, (int)type, root, comm, stream);

    public static int CommAbort(IntPtr comm) => ((delegate* unmanaged[Cdecl]<IntPtr, int>)Fn(ref commAbort, "ncclCommAbort"))(comm);
    public static int CommDestroy(IntPtr comm) => ((delegate* unmanaged[Cdecl]<IntPtr, int>)Fn(ref commDestroy, "ncclCommDestroy"))(comm);
    public static int GroupStart() => ((delegate* unmanaged[Cdecl]<int>)Fn(ref groupStart, "ncclGroupStart"))();
    public static int GroupEnd() => ((delegate* unmanaged[Cdecl]<int>)Fn(ref groupEnd, "ncclGroupEnd"))();

    public static int CommGetAsyncError(IntPtr comm, int* error) =>
        ((delegate* unmanaged[Cdecl]<IntPtr, int*, int>)Fn(ref commGetAsyncError, "ncclCommGetAsyncError"))(comm, error);

    public static string ErrorString(int result)
    {
        try
        {
            var p = ((delegate* unmanaged[Cdecl]<int, IntPtr>)Fn(ref getErrorString, "ncclGetErrorString"))(result);
            return Marshal.PtrToStringAnsi(p) ?? $"ncclResult {result}";
        }
        catch (Exception) { return $"ncclResult {result}"; }
    }

    public static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed: {ErrorString(result)} ({result})");
    }
}
