using System.Net;
using ActorFace.Actors.Workers;
using ActorFace.Model.Collectives;

namespace ActorFace.Actors.Training;

/// <summary>Local (threads of one process) or TCP ring (processes / nodes) collectives of Model.</summary>
public sealed class ModelCollectives : ICollectiveFactory
{
    public ICollective[] CreateLocal(int worldSize, TimeSpan timeout) =>
        worldSize == 1 ? [new SingleRankCollective()] : LocalCollectiveGroup.Create(worldSize, timeout);

    public ICollective ConnectTcp(int rank, IReadOnlyList<IPEndPoint> endpoints, TimeSpan timeout, string session) =>
        TcpCollective.Connect(rank, endpoints, new TcpCollectiveOptions { Timeout = timeout, ConnectTimeout = timeout, SessionToken = session });
}
