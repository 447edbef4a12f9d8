using System.Net;
using ActorFace.Actors.Workers;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Training;

/// <summary>Local (threads of one process), TCP ring (processes / nodes) or NCCL (CUDA) collectives of Model.</summary>
public sealed class ModelCollectives : ICollectiveFactory
{
    /// <summary>Adds the cluster's data-plane protection (secret handshake, TLS) to a rank's options and may refuse
    /// an unprotected ring (ClusterSecurity.Protect: rank, ring endpoints, options).</summary>
    public Func<int, IReadOnlyList<IPEndPoint>, TcpCollectiveOptions, TcpCollectiveOptions>? Protect { get; init; }

    /// <summary>The security rule for NCCL worlds (ClusterSecurity: NetworkExposure.CheckNccl with allow_insecure).</summary>
    public Action<int, IReadOnlyList<IPEndPoint>>? NcclGuard { get; init; }

    public void CheckNccl(int rank, IReadOnlyList<IPEndPoint> endpoints) => NcclGuard?.Invoke(rank, endpoints);

    /// <summary>libnccl through NcclCollective by default; tests put a fake behind the same interface.</summary>
    public INcclBackend? Nccl { get; init; } = NcclBackend.Instance;

    public ICollective[] CreateLocal(int worldSize, TimeSpan timeout) =>
        worldSize == 1 ? [new SingleRankCollective()] : LocalCollectiveGroup.Create(worldSize, timeout);

    public ICollective ConnectTcp(int rank, IReadOnlyList<IPEndPoint> endpoints, TimeSpan timeout, string session)
    {
        var options = new TcpCollectiveOptions { Timeout = timeout, ConnectTimeout = timeout, SessionToken = session };
        return TcpCollective.Connect(rank, endpoints, Protect is null ? options : Protect(rank, endpoints, options));
    }
}
