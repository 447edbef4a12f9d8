using ActorFace.Model.Collectives;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>
/// Test-only in-process collective: ranks are threads that meet at a barrier, publish their tensor, and each computes
/// the result from every rank's contribution. Deliberately naive (clones everything); the real backends live elsewhere.
/// </summary>
internal sealed class ThreadCollective : ICollective
{
    sealed class Shared(int world)
    {
        public readonly Barrier Barrier = new(world);
        public readonly Tensor?[] Slots = new Tensor?[world];
    }

    readonly Shared shared;
    public int Rank { get; }
    public int WorldSize { get; }
    public bool IsAborted => false;

    ThreadCollective(Shared shared, int rank, int world) => (this.shared, Rank, WorldSize) = (shared, rank, world);

    public static ThreadCollective[] Create(int world)
    {
        var s = new Shared(world);
        return Enumerable.Range(0, world).Select(r => new ThreadCollective(s, r, world)).ToArray();
    }

    /// <summary>Runs <paramref name="body"/> once per rank on its own thread and returns the results in rank order.</summary>
    public static T[] Run<T>(int world, Func<ICollective, T> body) => Run(Create(world), body);

    /// <summary>Runs <paramref name="body"/> on one thread per communicator (any backend) and returns results in rank order.</summary>
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
                if (c is ThreadCollective tc) tc.shared.Barrier.RemoveParticipant();
                else c.Abort($"rank {r} failed: {e.Message}");
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "rank thread hung");
        var first = errors.FirstOrDefault(e => e != null);
        if (first != null) throw new AggregateException(first);
        return results;
    }

    Tensor[] Exchange(Tensor t)
    {
        shared.Slots[Rank] = t.detach().clone();
        shared.Barrier.SignalAndWait();
        var all = shared.Slots.Select(s => s!.clone()).ToArray();
        shared.Barrier.SignalAndWait();
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

    public void Barrier() => shared.Barrier.SignalAndWait();
    public void Abort(string reason) { }
    public void Dispose() { }
}
