using TorchSharp;
using ActorFace.Model.Runtime;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// NCCL on CUDA tensors (one process per GPU; pin the GPU with CUDA_VISIBLE_DEVICES). Rendezvous: rank 0 calls
/// <see cref="CreateUniqueId"/> and the coordinator hands the same 128 bytes to every rank. Operations run on the
/// legacy default stream, which orders them with TorchSharp's kernels, and block until done; a watchdog calls
/// ncclCommAbort on timeout, as does <see cref="Abort"/>, which makes the spinning kernels exit.
/// </summary>
public sealed unsafe class NcclCollective : ICollective
{
    readonly AbortSignal abort = new();
    readonly TimeSpan timeout;
    readonly Timer watchdog;
    IntPtr comm;
    long seq;
    int busy;
    int commReleased;

    NcclCollective(int rank, int worldSize, IntPtr comm, TimeSpan timeout)
    {
        Rank = rank;
        WorldSize = worldSize;
        this.comm = comm;
        this.timeout = timeout;
        watchdog = new Timer(_ =>
        {
            if (Volatile.Read(ref busy) == 1) abort.Abort($"timeout: rank {Rank} spent more than {timeout.TotalSeconds:0.###} s in op #{seq}");
        });
        abort.OnAbort(() =>
        {
            if (Interlocked.Exchange(ref commReleased, 1) == 0) NcclNative.CommAbort(comm);
        });
    }

    /// <summary>True when CUDA is usable from TorchSharp and libnccl.so.2 loads; otherwise says why not.</summary>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            if (!torch.cuda.is_available())
            {
                reason = "CUDA is not available to TorchSharp (CPU-only libtorch or no GPU)";
                return false;
            }
        }
        catch (Exception e)
        {
            reason = $"CUDA probe failed: {e.Message}";
            return false;
        }
        return NcclNative.TryLoad(out reason);
    }

    /// <summary>ncclGetUniqueId: the rendezvous token rank 0 creates and the coordinator distributes.</summary>
    public static byte[] CreateUniqueId()
    {
        NcclNative.UniqueId id;
        NcclNative.Check(NcclNative.GetUniqueId(&id), "ncclGetUniqueId");
        return new ReadOnlySpan<byte>(id.Internal, NcclNative.UniqueIdBytes).ToArray();
    }

    /// <summary>ncclCommInitRank; blocks until all <paramref name="worldSize"/> ranks have joined with the same id.</summary>
    public static NcclCollective Create(int rank, int worldSize, byte[] uniqueId, TimeSpan? timeout = null)
    {
        if (!IsAvailable(out var reason)) throw new PlatformNotSupportedException($"NCCL backend unavailable: {reason}");
        if (uniqueId is not { Length: NcclNative.UniqueIdBytes })
            throw new ArgumentException($"NCCL unique id must be {NcclNative.UniqueIdBytes} bytes", nameof(uniqueId));
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"must be in [0, {worldSize})");
        NcclNative.UniqueId id;
        uniqueId.CopyTo(new Span<byte>(id.Internal, NcclNative.UniqueIdBytes));
        IntPtr comm;
        NcclNative.Check(NcclNative.CommInitRank(&comm, worldSize, id, rank), $"ncclCommInitRank(rank {rank} of {worldSize})");
        return new NcclCollective(rank, worldSize, comm, timeout ?? TimeSpan.FromSeconds(60));
    }

    public int Rank { get; }
    public int WorldSize { get; }
    public bool IsAborted => abort.IsAborted;

    public void Abort(string reason) => abort.Abort($"rank {Rank}: {reason}");

    public void Dispose()
    {
        watchdog.Dispose();
        if (Interlocked.Exchange(ref commReleased, 1) == 0) NcclNative.CommDestroy(comm);
        abort.Abort($"rank {Rank} disposed its communicator");
    }

    public Tensor AllGather(Tensor input) => Run(() =>
    {
        var x = Cuda(input).contiguous();
        using var count = torch.tensor(new long[] { x.shape[0] }, device: x.device);
        using var counts = torch.empty(WorldSize, ScalarType.Int64, device: x.device);
        Nccl(NcclNative.AllGather(Ptr(count), Ptr(counts), 1, NcclNative.DataType.Int64, comm, IntPtr.Zero), "ncclAllGather(sizes)");
        Wait();
        var rows = counts.cpu().data<long>().ToArray();
        var shape = x.shape.ToArray();
        shape[0] = rows.Sum();
        var output = torch.empty(shape, x.dtype, device: x.device);
        long rowElements = TensorMemory.RowElements(x);
        var type = DataType(x.dtype);
        if (rows.All(r => r == rows[0]))
        {
            Nccl(NcclNative.AllGather(Ptr(x), Ptr(output), (nuint)(rows[0] * rowElements), type, comm, IntPtr.Zero), "ncclAllGather");
        }
        else
        {
            // Unequal sizes: one broadcast per rank into its slice, fused into a single NCCL group.
            Nccl(NcclNative.GroupStart(), "ncclGroupStart");
            long offset = 0;
            for (int k = 0; k < WorldSize; k++)
            {
                var slice = Ptr(output) + (nint)(offset * rowElements * x.element_size());
                var send = k == Rank ? Ptr(x) : slice;
                Nccl(NcclNative.Broadcast(send, slice, (nuint)(rows[k] * rowElements), type, k, comm, IntPtr.Zero), "ncclBroadcast");
                offset += rows[k];
            }
            Nccl(NcclNative.GroupEnd(), "ncclGroupEnd");
        }
        Wait();
        return output;
    });

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => Run(() =>
    {
        var x = Cuda(tensor);
        var work = x.is_contiguous() ? x : x.contiguous();
        Nccl(NcclNative.AllReduce(Ptr(work), Ptr(work), (nuint)work.numel(), DataType(work.dtype), RedOp(op), comm, IntPtr.Zero), "ncclAllReduce");
        Wait();
        if (!ReferenceEquals(work, x)) { using var _ = torch.no_grad(); x.copy_(work); }
        return 0;
    });

    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) => Run(() =>
    {
        var x = Cuda(input).contiguous();
        if (x.dim() < 1 || x.shape[0] % WorldSize != 0)
            throw new ArgumentException($"ReduceScatter input {TensorMemory.Describe(x)} must have dim 0 divisible by world size {WorldSize}");
        var shape = x.shape.ToArray();
        shape[0] /= WorldSize;
        var output = torch.empty(shape, x.dtype, device: x.device);
        Nccl(NcclNative.ReduceScatter(Ptr(x), Ptr(output), (nuint)output.numel(), DataType(x.dtype), RedOp(op), comm, IntPtr.Zero), "ncclReduceScatter");
        Wait();
        return output;
    });

    public void Broadcast(Tensor tensor, int root = 0) => Run(() =>
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentException($"Broadcast root {root} is outside world size {WorldSize}");
        var x = Cuda(tensor);
        var work = x.is_contiguous() ? x : x.contiguous();
        Nccl(NcclNative.Broadcast(Ptr(work), Ptr(work), (nuint)work.numel(), DataType(work.dtype), root, comm, IntPtr.Zero), "ncclBroadcast");
        Wait();
        if (!ReferenceEquals(work, x)) { using var _ = torch.no_grad(); x.copy_(work); }
        return 0;
    });

    public void Barrier() => Run(() =>
    {
        using var one = torch.ones(1, ScalarType.Float32, device: torch.CUDA);
        Nccl(NcclNative.AllReduce(Ptr(one), Ptr(one), 1, NcclNative.DataType.Float32, NcclNative.RedOp.Sum, comm, IntPtr.Zero), "ncclAllReduce(barrier)");
        Wait();
        return 0;
    });

    T Run<T>(Func<T> body)
    {
        abort.ThrowIfAborted();
        if (Interlocked.Exchange(ref busy, 1) != 0)
            throw new InvalidOperationException($"rank {Rank}: collectives on one communicator must not run concurrently");
        seq++;
        watchdog.Change(timeout, Timeout.InfiniteTimeSpan);
        try
        {
            var result = body();
            abort.ThrowIfAborted();
            return result;
        }
        catch (Exception e) when (e is not CollectiveAbortedException && e is not ArgumentException)
        {
            abort.Abort($"rank {Rank}: {e.Message}");
            throw abort.Exception(e);
        }
        finally
        {
            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Blocks until the stream drains; an abort (ncclCommAbort) makes pending kernels exit so this returns.</summary>
    void Wait()
    {
        torch.cuda.synchronize();
        abort.ThrowIfAborted();
        int error = 0;
        NcclNative.CommGetAsyncError(comm, &error);
        if (error != 0) throw new InvalidOperationException($"NCCL asynchronous error: {NcclNative.ErrorString(error)}");
    }

    void Nccl(int result, string call)
    {
        abort.ThrowIfAborted();
        NcclNative.Check(result, call);
    }

    static Tensor Cuda(Tensor t) => t.device_type == DeviceType.CUDA ? t
        : throw new ArgumentException($"the NCCL backend needs CUDA tensors, got a {t.device_type} tensor {TensorMemory.Describe(t)}");

    static IntPtr Ptr(Tensor t) => TensorMemory.DataPointer(t);

    static NcclNative.RedOp RedOp(ReduceOp op) => op == ReduceOp.Max ? NcclNative.RedOp.Max : NcclNative.RedOp.Sum;

    static NcclNative.DataType DataType(ScalarType type) => type switch
    {
        ScalarType.Float32 => NcclNative.DataType.Float32,
        ScalarType.Float16 => NcclNative.DataType.Float16,
        ScalarType.BFloat16 => NcclNative.DataType.BFloat16,
        ScalarType.Float64 => NcclNative.DataType.Float64,
        ScalarType.Int64 => NcclNative.DataType.Int64,
        ScalarType.Int32 => NcclNative.DataType.Int32,
        ScalarType.Int8 => NcclNative.DataType.Int8,
        ScalarType.Byte or ScalarType.Bool => NcclNative.DataType.Uint8,
        _ => throw new ArgumentException($"NCCL does not support dtype {type}"),
    };
}
