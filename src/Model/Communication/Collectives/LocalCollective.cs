using TorchSharp;
using ActorFace.Model.Runtime;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>One thread-rank of a <see cref="LocalCollectiveGroup"/>.</summary>
internal sealed unsafe class LocalCollective : ICollective
{
    readonly LocalGroupState group;
    long seq;
    int busy;
    bool inCall; // counted in group.InCall: between Enter and completion or failure of a collective
    long deadline; // Stopwatch ticks: the timeout covers the whole call, not each phase

    public LocalCollective(LocalGroupState group, int rank)
    {
        this.group = group;
        Rank = rank;
    }

    public int Rank { get; }
    public int WorldSize => group.WorldSize;
    public bool IsAborted => group.Abort.IsAborted;

    public void Abort(string reason) => group.Abort.Abort($"rank {Rank}: {reason}");

    public void Dispose()
    {
        if (!group.Abort.IsAborted) group.Abort.Abort($"rank {Rank} disposed its communicator");
    }

    public Tensor AllGather(Tensor input) => Guard(() => AllGatherCore(input));
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => Guard(() => { AllReduceCore(tensor, op); return 0; });
    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) => Guard(() => ReduceScatterCore(input, op));
    public void Broadcast(Tensor tensor, int root = 0) => Guard(() => { BroadcastCore(tensor, root); return 0; });
    public void Barrier() => Guard(() => { BarrierCore(); return 0; });

    /// <summary>A rank that fails half-way would leave its peers waiting at the next phase: abort them instead.</summary>
    T Guard<T>(Func<T> body)
    {
        try { return body(); }
        catch (Exception e) when (e is not CollectiveAbortedException && e is not ArgumentException && e is not InvalidOperationException)
        {
            group.Abort.Abort($"rank {Rank} failed inside a collective: {e.Message}");
            throw group.Abort.Exception(e);
        }
    }

    Tensor AllGatherCore(Tensor input)
    {
        using var call = Enter();
        if (input.dim() < 1) throw Fail($"AllGather needs at least one dimension, got {TensorMemory.Describe(input)}");
        var work = TensorMemory.Workable(input, out bool copy);
        try
        {
            Publish(new OpHeader(CollectiveOpKind.AllGather, seq, (int)input.dtype, TensorMemory.TrailingShapeHash(input), input.dim()), work);
            Sync();
            CheckAgree(h => (h.Dtype, h.A, h.B), "dtype and shape after dim 0");
            Tensor output;
            using (torch.no_grad())
                output = torch.cat(group.Slots.Select(s => s!).ToArray(), 0);
            Sync();
            Completed();
            return input.device_type == DeviceType.CPU ? output : MoveTo(output, input.device);
        }
        finally
        {
            Release(work, copy);
        }
    }

    void AllReduceCore(Tensor tensor, ReduceOp op)
    {
        using var call = Enter();
        Reduction.Check(tensor.dtype, op);
        var work = TensorMemory.Workable(tensor, out bool copy);
        try
        {
            Publish(new OpHeader(CollectiveOpKind.AllReduce, seq, (int)tensor.dtype, tensor.numel(), (long)op), work);
            Sync();
            CheckAgree(h => (h.Dtype, h.A, h.B), "dtype, element count and reduce op");
            long n = tensor.numel();
            int size = (int)tensor.element_size();
            int w = WorldSize;
            // Phase 1: rank r reduces chunk r of every rank's buffer into its own buffer.
            var (start, count) = Chunk(n, w, Rank);
            if (count > 0)
            {
                byte* mine = TensorMemory.Bytes(work) + start * size;
                for (int k = 0; k < w; k++)
                    if (k != Rank) Reduction.Apply(tensor.dtype, op, mine, TensorMemory.Bytes(group.Slots[k]!) + start * size, mine, count);
            }
            Sync();
            // Phase 2: every rank copies the other ranks' finished chunks.
            for (int k = 0; k < w; k++)
            {
                if (k == Rank) continue;
                var (ks, kc) = Chunk(n, w, k);
                if (kc == 0) continue;
                long bytes = kc * size;
                Buffer.MemoryCopy(TensorMemory.Bytes(group.Slots[k]!) + ks * size, TensorMemory.Bytes(work) + ks * size, bytes, bytes);
            }
            Sync();
            Completed();
            TensorMemory.WriteBack(tensor, work, copy);
            copy = false;
        }
        finally
        {
            Release(work, copy);
        }
    }

    Tensor ReduceScatterCore(Tensor input, ReduceOp op)
    {
        using var call = Enter();
        Reduction.Check(input.dtype, op);
        if (input.dim() < 1 || input.shape[0] % WorldSize != 0)
            throw Fail($"ReduceScatter input {TensorMemory.Describe(input)} must have dim 0 divisible by world size {WorldSize}");
        var work = TensorMemory.Workable(input, out bool copy);
        try
        {
            Publish(new OpHeader(CollectiveOpKind.ReduceScatter, seq, (int)input.dtype, input.numel(), (long)op), work);
            Sync();
            CheckAgree(h => (h.Dtype, h.A, h.B), "dtype, element count and reduce op");
            var shape = input.shape.ToArray();
            shape[0] /= WorldSize;
            var output = torch.empty(shape, input.dtype);
            long count = output.numel();
            long offset = Rank * count * input.element_size();
            byte* dst = TensorMemory.Bytes(output);
            if (count > 0)
            {
                long bytes = count * input.element_size();
                Buffer.MemoryCopy(TensorMemory.Bytes(group.Slots[0]!) + offset, dst, bytes, bytes);
                for (int k = 1; k < WorldSize; k++)
                    Reduction.Apply(input.dtype, op, dst, TensorMemory.Bytes(group.Slots[k]!) + offset, dst, count);
            }
            Sync();
            Completed();
            return input.device_type == DeviceType.CPU ? output : MoveTo(output, input.device);
        }
        finally
        {
            Release(work, copy);
        }
    }

    void BroadcastCore(Tensor tensor, int root)
    {
        using var call = Enter();
        if (root < 0 || root >= WorldSize) throw Fail($"Broadcast root {root} is outside world size {WorldSize}");
        var work = TensorMemory.Workable(tensor, out bool copy);
        try
        {
            Publish(new OpHeader(CollectiveOpKind.Broadcast, seq, (int)tensor.dtype, TensorMemory.ByteCount(tensor), root), work);
            Sync();
            CheckAgree(h => (h.Dtype, h.A, h.B), "dtype, byte count and root");
            long bytes = TensorMemory.ByteCount(work);
            if (Rank != root && bytes > 0)
                Buffer.MemoryCopy(TensorMemory.Bytes(group.Slots[root]!), TensorMemory.Bytes(work), bytes, bytes);
            Sync();
            Completed();
            if (Rank != root) { TensorMemory.WriteBack(tensor, work, copy); copy = false; }
        }
        finally
        {
            Release(work, copy);
        }
    }

    void BarrierCore()
    {
        using var call = Enter();
        Publish(new OpHeader(CollectiveOpKind.Barrier, seq, 0, 0, 0), null);
        Sync();
        CheckAgree(h => (h.Dtype, h.A, h.B), "operation");
        Sync();
    }

    static (long Start, long Count) Chunk(long n, int w, int k)
    {
        long start = n * k / w, end = n * (k + 1) / w;
        return (start, end - start);
    }

    static Tensor MoveTo(Tensor cpu, Device device)
    {
        var moved = cpu.to(device);
        cpu.Dispose();
        return moved;
    }

    void Publish(OpHeader header, Tensor? buffer)
    {
        group.Headers[Rank] = header;
        group.Slots[Rank] = buffer;
    }

    /// <summary>Every rank sees the same headers after a phase, so every rank reaches the same verdict.</summary>
    void CheckAgree<T>(Func<OpHeader, T> key, string what)
    {
        var mine = group.Headers[Rank];
        for (int k = 0; k < WorldSize; k++)
        {
            var other = group.Headers[k];
            if (other.Kind != mine.Kind || other.Seq != mine.Seq)
                throw Mismatch($"ranks issued different collectives: rank {k} is in {other}, rank {Rank} in {mine}");
            if (!EqualityComparer<T>.Default.Equals(key(other), key(mine)))
                throw Mismatch($"{mine.Kind} #{mine.Seq}: ranks disagree on {what}: rank {k} has {other}, rank {Rank} has {mine}");
        }
    }

    CollectiveAbortedException Mismatch(string message)
    {
        group.Abort.Abort(message);
        return group.Abort.Exception();
    }

    /// <summary>Bad arguments break the lock-step of the group, so they abort it too (the peers learn why).</summary>
    ArgumentException Fail(string message)
    {
        group.Abort.Abort($"rank {Rank}: {message}");
        return new ArgumentException(message);
    }

    void Sync()
    {
        bool arrived;
        try
        {
            var left = TimeSpan.FromSeconds((deadline - System.Diagnostics.Stopwatch.GetTimestamp()) / (double)System.Diagnostics.Stopwatch.Frequency);
            arrived = group.Barrier.SignalAndWait(left > TimeSpan.Zero ? left : TimeSpan.Zero, group.Abort.Token);
        }
        catch (OperationCanceledException e)
        {
            throw group.Abort.Exception(e);
        }
        if (!arrived)
        {
            group.Abort.Abort($"timeout: rank {Rank} waited {group.Timeout.TotalSeconds:0.###} s in {group.Headers[Rank]}");
            throw group.Abort.Exception();
        }
        group.Abort.ThrowIfAborted();
    }

    /// <summary>
    /// Unpublishes this rank's buffer. After a failure (timeout, abort, mismatch) a peer may still be copying from it:
    /// the rank first waits until every peer has left the collective (they finish their copy and fail at the next
    /// phase), so that neither this method nor the caller frees memory a peer is reading.
    /// </summary>
    void Release(Tensor work, bool copy)
    {
        if (inCall)
        {
            LeaveCall();
            var until = System.Diagnostics.Stopwatch.GetTimestamp() + 30 * System.Diagnostics.Stopwatch.Frequency;
            while (Volatile.Read(ref group.InCall) > 0 && System.Diagnostics.Stopwatch.GetTimestamp() < until)
                Thread.Sleep(1);
        }
        group.Slots[Rank] = null;
        if (copy) work.Dispose();
    }

    void LeaveCall()
    {
        if (!inCall) return;
        inCall = false;
        Interlocked.Decrement(ref group.InCall);
    }

    /// <summary>Marks the end of a collective that completed: its last phase was a barrier every peer passed.</summary>
    void Completed() => LeaveCall();

    CallScope Enter()
    {
        group.Abort.ThrowIfAborted();
        if (Interlocked.Exchange(ref busy, 1) != 0)
            throw new InvalidOperationException($"rank {Rank}: collectives on one communicator must not run concurrently");
        Interlocked.Increment(ref group.InCall);
        inCall = true;
        seq++;
        deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(group.Timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        return new CallScope(this);
    }

    readonly struct CallScope(LocalCollective owner) : IDisposable
    {
        public void Dispose()
        {
            owner.LeaveCall();
            Volatile.Write(ref owner.busy, 0);
        }
    }
}
