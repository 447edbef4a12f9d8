using ActorFace.Model.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Actors.Tests.Fakes;

/// <summary>
/// A minimal in-process collective for the actor tests (AllReduce, Broadcast, Barrier, Abort): the fakes only need
/// these, and the tests must not depend on the real backends' performance.
/// </summary>
public sealed class ThreadCollective : ICollective
{
    private sealed class Group(int world, TimeSpan timeout)
    {
        public readonly Barrier Barrier = new(world);
        public readonly Tensor?[] Slots = new Tensor?[world];
        public readonly TimeSpan Timeout = timeout;
        public volatile string? Aborted;
    }

    private readonly Group _group;

    private ThreadCollective(Group group, int rank)
    {
        _group = group;
        Rank = rank;
    }

    public static ICollective[] Create(int world, TimeSpan timeout)
    {
        var g = new Group(world, timeout);
        return Enumerable.Range(0, world).Select(r => (ICollective)new ThreadCollective(g, r)).ToArray();
    }

    public int Rank { get; }
    public int WorldSize => _group.Slots.Length;
    public bool IsAborted => _group.Aborted is not null;

    private void Sync()
    {
        var deadline = DateTime.UtcNow + _group.Timeout;
        while (true)
        {
            if (_group.Aborted is { } reason) throw new CollectiveAbortedException(reason);
            // A timed-out SignalAndWait withdraws our signal, so polling keeps aborts responsive.
            if (_group.Barrier.SignalAndWait(TimeSpan.FromMilliseconds(50)))
            {
                if (_group.Aborted is { } after) throw new CollectiveAbortedException(after);
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Abort("timeout");
                throw new CollectiveAbortedException("timeout");
            }
        }
    }

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        _group.Slots[Rank] = tensor.clone();
        Sync();
        using (no_grad())
        {
            var acc = _group.Slots[0]!.clone();
            for (var r = 1; r < WorldSize; r++)
                acc = op == ReduceOp.Sum ? acc.add(_group.Slots[r]!) : maximum(acc, _group.Slots[r]!);
            Sync();
            tensor.copy_(acc);
        }
    }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        if (Rank == root) _group.Slots[root] = tensor.clone();
        Sync();
        if (Rank != root) using (no_grad()) tensor.copy_(_group.Slots[root]!);
        Sync();
    }

    public void Barrier() => Sync();

    public Tensor AllGather(Tensor input) => throw new NotSupportedException();
    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) => throw new NotSupportedException();

    public void Abort(string reason)
    {
        _group.Aborted ??= reason;
    }

    public void Dispose() => Abort("disposed");
}
