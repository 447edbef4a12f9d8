using System.Collections.Concurrent;
using ActorFace.Actors.Workers;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Actors.Tests.Fakes;

/// <summary>
/// NCCL without a GPU: the same <see cref="INcclBackend"/> the runtime uses, with communicators that are thread
/// collectives grouped by unique id (ranks that join with different ids never meet, as in NCCL). Records every id made,
/// every join and every abort, so tests see the id exchange and ncclCommAbort through real actors.
/// </summary>
public sealed class FakeNccl : INcclBackend
{
    private readonly ConcurrentDictionary<string, ICollective[]> _groups = new();
    public ConcurrentQueue<string> IdsCreated { get; } = new();
    public ConcurrentQueue<(int Rank, int WorldSize, string Id)> Joins { get; } = new();
    public ConcurrentQueue<(int Rank, string Id, string Reason)> Aborts { get; } = new();

    public bool IsAvailable(out string reason)
    {
        reason = "";
        return true;
    }

    public byte[] CreateUniqueId()
    {
        var id = Guid.NewGuid().ToByteArray().Concat(new byte[112]).ToArray(); // 128 bytes, as ncclUniqueId
        IdsCreated.Enqueue(Convert.ToHexString(id));
        return id;
    }

    public ICollective Create(int rank, int worldSize, byte[] uniqueId, TimeSpan timeout)
    {
        var id = Convert.ToHexString(uniqueId);
        Joins.Enqueue((rank, worldSize, id));
        var group = _groups.GetOrAdd(id, _ => ThreadCollective.Create(worldSize, timeout));
        return new Communicator(group[rank], this, rank, id);
    }

    /// <summary>The fake communicator: delegates, and records Abort (the call that is ncclCommAbort in NcclCollective).</summary>
    private sealed class Communicator(ICollective inner, FakeNccl backend, int rank, string id) : ICollective
    {
        public int Rank => inner.Rank;
        public int WorldSize => inner.WorldSize;
        public bool IsAborted => inner.IsAborted;
        public Tensor AllGather(Tensor input) => inner.AllGather(input);
        public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => inner.AllReduce(tensor, op);
        public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) => inner.ReduceScatter(input, op);
        public void Broadcast(Tensor tensor, int root = 0) => inner.Broadcast(tensor, root);
        public void Barrier() => inner.Barrier();

        public void Abort(string reason)
        {
            backend.Aborts.Enqueue((rank, id, reason));
            inner.Abort(reason);
        }

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>The in-process fake collectives plus a fake NCCL backend.</summary>
public sealed class FakeNcclCollectives(FakeNccl nccl, string? refuse = null) : ICollectiveFactory
{
    private readonly FakeCollectives _inner = new();
    public INcclBackend? Nccl => nccl;

    public void CheckNccl(int rank, IReadOnlyList<System.Net.IPEndPoint> endpoints)
    {
        if (refuse is not null) throw new ArgumentException(refuse);
    }
    public ICollective[] CreateLocal(int worldSize, TimeSpan timeout) => _inner.CreateLocal(worldSize, timeout);

    public ICollective ConnectTcp(int rank, IReadOnlyList<System.Net.IPEndPoint> endpoints, TimeSpan timeout, string session) =>
        _inner.ConnectTcp(rank, endpoints, timeout, session);
}
