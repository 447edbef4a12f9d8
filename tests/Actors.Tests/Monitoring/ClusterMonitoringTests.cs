using ActorFace.Actors.Monitoring;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;

namespace ActorFace.Actors.Tests.Monitoring;

/// <summary>Two real actor systems on loopback: a worker node publishes, a `monitor`-role node aggregates.</summary>
public class ClusterMonitoringTests
{
    private static Config NodeConfig(string role) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.roles = [{{role}}]
        akka.cluster.pub-sub.gossip-interval = 200ms
        akka.cluster.gossip-interval = 200ms
        akka.cluster.periodic-tasks-initial-delay = 0s
        # both nodes stop together: skip the graceful-leave phases, which would wait on each other
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """).WithFallback(MonitoringConfig.Default);

    [Fact]
    public async Task MonitorNodeSeesBothRanksAndTheRecovery()
    {
        var worker = ActorSystem.Create("actorface", NodeConfig("worker"));
        var watcher = ActorSystem.Create("actorface", NodeConfig(MonitoringConfig.MonitorRole));
        try
        {
            var seed = Cluster.Get(worker).SelfAddress;
            await Cluster.Get(worker).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(20));
            await Cluster.Get(watcher).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(20));
            var monitor = watcher.ActorOf(MonitorActor.Props(), "monitor");

            // Like the runtime, keep publishing metrics: pub-sub registrations reach other nodes by gossip.
            async Task<MonitorSnapshot> Until(Func<MonitorSnapshot, bool> done, Action publish)
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (true)
                {
                    publish();
                    await Task.Delay(100);
                    var s = await monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5));
                    if (done(s) || DateTime.UtcNow > deadline) return s;
                }
            }
            var step = 0L;
            await Until(s => s.Workers.Count == 2, () =>
            {
                step++;
                MetricsPublisher.Publish(worker, SampleMetrics.Worker(0, step, generation: 2));
                MetricsPublisher.Publish(worker, SampleMetrics.Worker(1, step, generation: 2));
            });
            // An event is published once, as the coordinator would.
            MetricsPublisher.Publish(worker, SampleMetrics.Recovery(2, "rank 1 restarted: worker crashed"));
            var snap = await Until(s => s.RecentEvents.Any(e => e.Kind == ClusterEventKind.Recovered), () => { });

            Assert.NotNull(snap);
            Assert.Equal([0, 1], snap.Workers.Select(w => w.Latest.Rank));
            Assert.All(snap.Workers, w => Assert.Equal(2, w.Latest.Generation));
            var recovery = Assert.Single(snap.RecentEvents, e => e.Kind == ClusterEventKind.Recovered);
            Assert.Equal("rank 1 restarted: worker crashed", recovery.Message);
            Assert.Contains(snap.Members, m => m.Roles.Contains("monitor") && m.Status == "Up");
            Assert.Contains(snap.Members, m => m.Roles.Contains("worker") && m.Status == "Up");
        }
        finally
        {
            await Task.WhenAll(watcher.Terminate(), worker.Terminate()).WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
