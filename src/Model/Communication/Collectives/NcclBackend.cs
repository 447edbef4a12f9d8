namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// What the runtime needs of NCCL: probe, unique id (rank 0), communicator per rank. The runtime talks to this
/// interface only, so that tests on machines without GPUs drive the same id exchange and abort path with a fake.
/// </summary>
public interface INcclBackend
{
    /// <summary>True when CUDA is usable and libnccl loads; otherwise says why not.</summary>
    bool IsAvailable(out string reason);

    /// <summary>ncclGetUniqueId on rank 0: the 128-byte rendezvous token of one communicator.</summary>
    byte[] CreateUniqueId();

    /// <summary>ncclCommInitRank: blocks until every rank of the world has joined with the same id. The communicator's
    /// <see cref="ICollective.Abort"/> is ncclCommAbort.</summary>
    ICollective Create(int rank, int worldSize, byte[] uniqueId, TimeSpan timeout);
}

/// <summary>The real backend: <see cref="NcclCollective"/> over libnccl.so.2.</summary>
public sealed class NcclBackend : INcclBackend
{
    public static readonly NcclBackend Instance = new();

    public bool IsAvailable(out string reason) => NcclCollective.IsAvailable(out reason);

    public byte[] CreateUniqueId() => NcclCollective.CreateUniqueId();

    public ICollective Create(int rank, int worldSize, byte[] uniqueId, TimeSpan timeout) =>
        NcclCollective.Create(rank, worldSize, uniqueId, timeout);
}
