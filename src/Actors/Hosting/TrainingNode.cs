using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;

namespace ActorFace.Actors.Hosting;

/// <summary>Starts the training actors of one process inside a cluster actor system.</summary>
public static class TrainingNode
{
    public const string ManagerName = "coordinator-manager";
    public const string ProxyName = "coordinator-proxy";

    /// <summary>
    /// Starts the coordinator singleton manager (every worker node can host it; it runs on the oldest), a proxy to it,
    /// and this process's <see cref="WorkerNode"/>. The task completes when the job ends (or this node is refused).
    /// </summary>
    public static Task<TrainingEnded> Start(ActorSystem system, TrainingSettings settings, RankServices services, TextWriter? console)
    {
        var manager = ClusterSingletonManager.Props(
            TrainingCoordinator.Props(settings, console),
            PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system).WithRole(ClusterHocon.WorkerRole).WithSingletonName(TrainingCoordinator.SingletonName));
        system.ActorOf(manager, ManagerName);
        var proxy = CoordinatorProxy(system);
        var outcome = new TaskCompletionSource<TrainingEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nodeId = Cluster.Get(system).SelfAddress.ToString();
        system.ActorOf(WorkerNode.Props(settings, services, proxy, nodeId, console, outcome), "worker-node");
        return outcome.Task;
    }

    public static IActorRef CoordinatorProxy(ActorSystem system) =>
        system.ActorOf(ClusterSingletonProxy.Props($"/user/{ManagerName}",
            ClusterSingletonProxySettings.Create(system).WithRole(ClusterHocon.WorkerRole).WithSingletonName(TrainingCoordinator.SingletonName)
                .WithLogSingletonIdentificationFailure(false)),
            ProxyName);

    /// <summary>
    /// Seed nodes are written akka.tcp://actorface@host:port; with TLS on, DotNetty's transport is "akka.ssl.tcp", so
    /// the address takes this system's protocol (TLS or not is a property of the whole cluster, not of one address).
    /// </summary>
    public static Address SeedAddress(string seed, string protocol)
    {
        var a = Address.Parse(seed);
        return new Address(protocol, a.System, a.Host, a.Port);
    }

    /// <summary>
    /// Joins the cluster (the seed nodes, or itself when there are none) and waits until this member is Up or WeaklyUp.
    /// WeaklyUp counts: while another member is unreachable (a node that just died, or keeps dying) the leader cannot
    /// move a joining member to Up, yet the coordinator can already admit it as a stand-by; waiting for Up made a
    /// restarted node give up in the soak while its peer was killed every 20 s.
    /// </summary>
    public static async Task JoinAsync(ActorSystem system, TrainingSettings settings)
    {
        var cluster = Cluster.Get(system);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => joined.TrySetResult());
        if (settings.Cluster.SeedNodes.Count == 0)
            cluster.Join(cluster.SelfAddress);
        else
            cluster.JoinSeedNodes(settings.Cluster.SeedNodes.Select(s => SeedAddress(s, cluster.SelfAddress.Protocol)));
        using var deadline = new CancellationTokenSource(settings.Cluster.JoinTimeout);
        while (!joined.Task.IsCompleted && !deadline.IsCancellationRequested)
        {
            if (cluster.SelfMember.Status == MemberStatus.WeaklyUp)
                joined.TrySetResult();
            await Task.WhenAny(joined.Task, Task.Delay(200));
        }
        if (!joined.Task.IsCompleted)
            throw new TimeoutException(
                $"could not join the cluster through seed node(s) {string.Join(", ", settings.Cluster.SeedNodes)} within " +
                $"{settings.Cluster.JoinTimeout.TotalSeconds:0}s (cluster.join_timeout): is the seed node running and reachable from {settings.Cluster.Hostname}?");
    }
}
