using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Tests;

/// <summary>
/// Test-only in-process collective: ranks are threads that meet at a barrier, publish their tensor, and each computes
/// the result from every rank's contribution. Deliberately naive (clones everything) so that tests never depend on the
/// real backends; it does honour <see cref="Abort"/> and an optional timeout, as the actor tests need.
/// </summary>
public sealed class ThreadCollective : ICollective
{
    sealed class Group(int world, TimeSpan? timeout)
    {
        public readonly Barrier Barrier = new(world);
        public readonly Tensor?[] Slots = new Tensor?[world];
        public readonly TimeSpan? Timeout = timeout;
        public volatile string? Aborted;
    }

    readonly Group group;

    ThreadCollective(Group group, int rank) => (this.group, Rank) = (group, rank);

    /// <summary>A world of <paramref name="world"/> ranks; a rank that waits longer than <paramref name="timeout"/>
    /// (default: forever) at a barrier aborts the group.</summary>
    public static ICollective[] Create(int world, TimeSpan? timeout = null)
    {
        var g = new Group(world, timeout);
        return Enumerable.Range(0, world).Select(r => (ICollective)new ThreadCollective(g, r)).ToArray();
    }

    public int Rank { get; }
    public int WorldSize => group.Slots.Length;
    public bool IsAborted => group.Aborted is not null;

    /// <summary>Runs <paramref name="body"/> once per rank on its own thread and returns the results in rank order.</summary>
    public static T[] Run<T>(int world, Func<ICollective, T> body) => Run(Create(world), body);

    /// <summary>Runs <paramref name="body"/> on one thread per communicator (any backend) and returns results in rank order;
    /// a failing rank leaves the barrier (this fake) or aborts its communicator (real backends, so that the others stop
    /// waiting), and all failures are rethrown together.</summary>
    public static T[] Run<T>(IReadOnlyList<ICollective> comms, Func<ICollective, T> body)
    {
        var world = comms.Count;
        var results = new T[world];
        var errors = new Exception?[world];
        var threads = comms.Select((c, r) => new Thread(() =>
        {
            try { results[r] = body(c); }
            catch (Exception e)
            {
                errors[r] = e;
                // The other ranks go on without this one (a failure elsewhere is reported by its own rank).
                if (c is ThreadCollective tc) tc.group.Barrier.RemoveParticipant();
                else c.Abort($"rank {r} failed: {e.Message}");
            }
        }) { IsBackground = true }).ToArray(); // a hung rank must not keep the test host alive
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "rank thread hung");
        var failures = errors.OfType<Exception>().ToList();
        if (failures.Count > 0) throw new AggregateException(failures); // every rank's, the cause and the aborts it set off
        return results;
    }

    void Sync()
    {
        var deadline = group.Timeout is { } timeout ? DateTime.UtcNow + timeout : DateTime.MaxValue;
        while (true)
        {
            if (group.Aborted is { } reason) throw new CollectiveAbortedException(reason);
            // A timed-out SignalAndWait withdraws our signal, so polling keeps aborts responsive.
            if (group.Barrier.SignalAndWait(TimeSpan.FromMilliseconds(50)))
            {
                if (group.Aborted is { } after) throw new CollectiveAbortedException(after);
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Abort("timeout");
                throw new CollectiveAbortedException("timeout");
            }
        }
    }

    Tensor[] Exchange(Tensor t)
    {
        group.Slots[Rank] = t.detach().clone();
        Sync();
        var all = group.Slots.Select(s => s!.clone()).ToArray();
        Sync();
        return all;
    }

    public Tensor AllGather(Tensor input) => torch.cat(Exchange(input), 0);

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        var all = Exchange(tensor);
        var r = all[0];
        for (var i = 1; i < all.Length; i++) r = op == ReduceOp.Sum ? r + all[i] : torch.maximum(r, all[i]);
        using (torch.no_grad()) tensor.copy_(r);
    }

    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum)
    {
        var all = Exchange(input);
        var n = input.shape[0] / WorldSize;
        var r = all[0].narrow(0, Rank * n, n);
        for (var i = 1; i < all.Length; i++)
            r = op == ReduceOp.Sum ? r + all[i].narrow(0, Rank * n, n) : torch.maximum(r, all[i].narrow(0, Rank * n, n));
        return r.contiguous();
    }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        var all = Exchange(tensor);
        using (torch.no_grad()) tensor.copy_(all[root]);
    }

    public void Barrier() => Sync();

    public void Abort(string reason) => group.Aborted ??= reason;

    public void Dispose() => Abort("disposed");
}
