using TorchSharp;
using ActorFace.Model.Runtime;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

public sealed unsafe partial class TcpCollective
{
    public Tensor AllGather(Tensor input) => Guard(() => AllGatherCore(input));
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => Guard(() => { AllReduceCore(tensor, op); return 0; });
    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) => Guard(() => ReduceScatterCore(input, op));
    public void Broadcast(Tensor tensor, int root = 0) => Guard(() => { BroadcastCore(tensor, root); return 0; });
    public void Barrier() => Guard(() => { BarrierCore(); return 0; });

    void AllReduceCore(Tensor tensor, ReduceOp op)
    {
        using var call = Enter(CollectiveOpKind.AllReduce);
        Reduction.Check(tensor.dtype, op);
        if (WorldSize == 1) return;
        var work = TensorMemory.Workable(tensor, out bool copy);
        try
        {
            long n = work.numel();
            int elem = (int)work.element_size();
            var bounds = new long[WorldSize + 1];
            for (int i = 0; i <= WorldSize; i++) bounds[i] = n * i / WorldSize * elem;
            byte* p = TensorMemory.Bytes(work);
            Ring(CollectiveOpKind.AllReduce, tensor.dtype, op, p, p, bounds, shift: 0,
                 steps: 2 * (WorldSize - 1), reduceSteps: WorldSize - 1, total: n * elem);
            TensorMemory.WriteBack(tensor, work, copy);
            copy = false;
        }
        finally
        {
            if (copy) work.Dispose();
        }
    }

    Tensor ReduceScatterCore(Tensor input, ReduceOp op)
    {
        using var call = Enter(CollectiveOpKind.ReduceScatter);
        Reduction.Check(input.dtype, op);
        if (input.dim() < 1 || input.shape[0] % WorldSize != 0)
            throw Fail($"ReduceScatter input {TensorMemory.Describe(input)} must have dim 0 divisible by world size {WorldSize}");
        if (WorldSize == 1) return input.detach().clone();
        var work = TensorMemory.Workable(input, out bool copy);
        try
        {
            long rows = input.shape[0] / WorldSize;
            long rowBytes = TensorMemory.RowElements(input) * input.element_size();
            var bounds = new long[WorldSize + 1];
            for (int i = 0; i <= WorldSize; i++) bounds[i] = i * rows * rowBytes;
            using var reduced = torch.empty_like(work);
            // Shift −1 makes the segment a rank ends up owning its own: rank r keeps rows [r·n, (r+1)·n).
            Ring(CollectiveOpKind.ReduceScatter, input.dtype, op, TensorMemory.Bytes(work), TensorMemory.Bytes(reduced), bounds,
                 shift: -1, steps: WorldSize - 1, reduceSteps: WorldSize - 1, total: bounds[WorldSize]);
            var output = reduced.narrow(0, Rank * rows, rows).clone();
            return input.device_type == DeviceType.CPU ? output : MoveTo(output, input.device);
        }
        finally
        {
            if (copy) work.Dispose();
        }
    }

    Tensor AllGatherCore(Tensor input)
    {
        using var call = Enter(CollectiveOpKind.AllGather);
        if (input.dim() < 1) throw Fail($"AllGather needs at least one dimension, got {TensorMemory.Describe(input)}");
        if (WorldSize == 1) return input.detach().clone();
        var work = TensorMemory.Workable(input, out bool copy);
        try
        {
            // Round 1: every rank's row count (and a fingerprint of its row shape) so that sizes may differ.
            var sizes = GC.AllocateArray<long>(2 * WorldSize, pinned: true);
            sizes[2 * Rank] = input.shape[0];
            sizes[2 * Rank + 1] = TensorMemory.TrailingShapeHash(input) ^ input.dim();
            var sizeBounds = new long[WorldSize + 1];
            for (int i = 0; i <= WorldSize; i++) sizeBounds[i] = 16L * i;
            fixed (long* s = sizes)
                Ring(CollectiveOpKind.AllGatherSizes, input.dtype, ReduceOp.Sum, (byte*)s, (byte*)s, sizeBounds,
                     shift: 0, steps: WorldSize - 1, reduceSteps: 0, total: 16L * WorldSize);
            for (int k = 0; k < WorldSize; k++)
                if (sizes[2 * k + 1] != sizes[2 * Rank + 1])
                    throw link!.Broken($"AllGather #{seq}: rank {k} and rank {Rank} disagree on the shape after dim 0 " +
                                       $"(rank {Rank} has {TensorMemory.Describe(input)})");

            long rowBytes = TensorMemory.RowElements(input) * input.element_size();
            var bounds = new long[WorldSize + 1];
            long totalRows = 0;
            for (int k = 0; k < WorldSize; k++) { bounds[k] = totalRows * rowBytes; totalRows += sizes[2 * k]; }
            bounds[WorldSize] = totalRows * rowBytes;
            var shape = input.shape.ToArray();
            shape[0] = totalRows;
            var output = torch.empty(shape, input.dtype);
            byte* o = TensorMemory.Bytes(output);
            long mine = bounds[Rank + 1] - bounds[Rank];
            if (mine > 0) Buffer.MemoryCopy(TensorMemory.Bytes(work), o + bounds[Rank], mine, mine);
            Ring(CollectiveOpKind.AllGather, input.dtype, ReduceOp.Sum, o, o, bounds,
                 shift: 0, steps: WorldSize - 1, reduceSteps: 0, total: bounds[WorldSize]);
            return input.device_type == DeviceType.CPU ? output : MoveTo(output, input.device);
        }
        finally
        {
            if (copy) work.Dispose();
        }
    }

    void BroadcastCore(Tensor tensor, int root)
    {
        using var call = Enter(CollectiveOpKind.Broadcast);
        if (root < 0 || root >= WorldSize) throw Fail($"Broadcast root {root} is outside world size {WorldSize}");
        if (WorldSize == 1) return;
        var work = TensorMemory.Workable(tensor, out bool copy);
        try
        {
            var l = link!;
            long bytes = TensorMemory.ByteCount(work);
            byte* p = TensorMemory.Bytes(work);
            byte dtype = DtypeCode(tensor.dtype, ReduceOp.Sum);
            // A pipelined chain root → root+1 → … → root−1: each rank forwards a frame as soon as it has it.
            bool forward = (Rank + 1) % WorldSize != root;
            for (long off = 0; off < bytes; off += chunk)
            {
                int len = (int)Math.Min(chunk, bytes - off);
                var header = new FrameHeader((uint)seq, CollectiveOpKind.Broadcast, dtype, (ushort)root, len, bytes);
                if (Rank == root) { l.Enqueue(p + off, header); continue; }
                Expect(l.ReceiveHeader(), header);
                l.ReceiveExact(new Span<byte>(p + off, len));
                if (forward) l.Enqueue(p + off, header);
            }
            l.WaitSent();
            if (Rank != root) { TensorMemory.WriteBack(tensor, work, copy); copy = false; }
        }
        finally
        {
            if (copy) work.Dispose();
        }
    }

    void BarrierCore()
    {
        using var call = Enter(CollectiveOpKind.Barrier);
        if (WorldSize == 1) return;
        // A ring all-gather of one byte per rank: a rank leaves once it has heard from every other rank.
        byte* tokens = stackalloc byte[WorldSize];
        var bounds = new long[WorldSize + 1];
        for (int i = 0; i <= WorldSize; i++) bounds[i] = i;
        Ring(CollectiveOpKind.Barrier, ScalarType.Byte, ReduceOp.Sum, tokens, tokens, bounds,
             shift: 0, steps: WorldSize - 1, reduceSteps: 0, total: WorldSize);
    }

    /// <summary>
    /// The ring schedule shared by every operation. Segment g = bytes [bounds[g], bounds[g+1]). At step t a rank
    /// receives segment (rank + shift − t − 1) mod W from its left (reducing it with its own copy during the first
    /// <paramref name="reduceSteps"/> steps, overwriting it afterwards) and forwards each frame on to its right
    /// for step t+1; step 0 sends segment (rank + shift) from <paramref name="src"/>.
    /// </summary>
    void Ring(CollectiveOpKind kind, ScalarType dtype, ReduceOp op, byte* src, byte* dst, long[] bounds,
              int shift, int steps, int reduceSteps, long total)
    {
        var l = link!;
        int w = WorldSize;
        int elem = reduceSteps > 0 ? TensorMemory.ElementSize(dtype) : 1;
        byte code = DtypeCode(dtype, op);
        int first = Mod(Rank + shift, w);
        for (long off = bounds[first]; off < bounds[first + 1]; off += chunk)
        {
            int len = (int)Math.Min(chunk, bounds[first + 1] - off);
            l.Enqueue(src + off, new FrameHeader((uint)seq, kind, code, 0, len, total));
        }
        fixed (byte* tmp = scratch)
        {
            for (int t = 0; t < steps; t++)
            {
                int g = Mod(Rank + shift - t - 1, w);
                for (long off = bounds[g]; off < bounds[g + 1]; off += chunk)
                {
                    int len = (int)Math.Min(chunk, bounds[g + 1] - off);
                    Expect(l.ReceiveHeader(), new FrameHeader((uint)seq, kind, code, (ushort)t, len, total));
                    if (t < reduceSteps)
                    {
                        l.ReceiveExact(new Span<byte>(tmp, len));
                        Reduction.Apply(dtype, op, src + off, tmp, dst + off, len / elem);
                    }
                    else
                    {
                        l.ReceiveExact(new Span<byte>(dst + off, len));
                    }
                    if (t + 1 < steps) l.Enqueue(dst + off, new FrameHeader((uint)seq, kind, code, (ushort)(t + 1), len, total));
                }
            }
        }
        l.WaitSent();
    }

    void Expect(FrameHeader got, FrameHeader expected)
    {
        if (got != expected)
            throw link!.Broken($"rank {Rank}: the left neighbour sent [{got}] where [{expected}] was expected: " +
                               "ranks issued different collectives or passed mismatched tensors");
    }

    static byte DtypeCode(ScalarType dtype, ReduceOp op) => (byte)((int)dtype | ((int)op << 6));

    static int Mod(int a, int w) => ((a % w) + w) % w;

    static Tensor MoveTo(Tensor cpu, Device device)
    {
        var moved = cpu.to(device);
        cpu.Dispose();
        return moved;
    }
}
