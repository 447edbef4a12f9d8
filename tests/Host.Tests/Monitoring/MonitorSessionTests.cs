using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>`actorface monitor --once --json` against a live (fake) worker node on loopback.</summary>
public class MonitorSessionTests
{
    [Fact]
    public async Task OnceJsonJoinsTheClusterAndPrintsTheRanks()
    {
        var worker = ActorSystem.Create("actorface", MonitorNode.ClusterConfig("127.0.0.1", 0, ["worker"], [], "WARNING"));
        using var stopPublishing = new CancellationTokenSource();
        try
        {
            var seed = Cluster.Get(worker).SelfAddress;
            await Cluster.Get(worker).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(20));
            var publishing = Task.Run(async () =>
            {
                for (var step = 1; !stopPublishing.IsCancellationRequested; step++)
                {
                    MetricsPublisher.Publish(worker, SampleSnapshot.Worker(0, step, 30));
                    MetricsPublisher.Publish(worker, SampleSnapshot.Worker(1, step, 30));
                    await Task.Delay(100);
                }
            });

            var (system, seeds) = MonitorNode.ParseSeeds([seed.ToString()]);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exit = await MonitorSession.RunAsync(
                new MonitorOptions(seeds, system, "127.0.0.1", 0, Once: true, Json: true, Wait: TimeSpan.FromSeconds(20),
                    JoinTimeout: TimeSpan.FromSeconds(20), Refresh: TimeSpan.FromSeconds(1), Http: null, TensorBoardDir: null, Verbose: false),
                stdout, stderr, CancellationToken.None);
            stopPublishing.Cancel();
            await publishing;

            Assert.True(exit == 0, stderr.ToString());
            var snapshot = MonitorSnapshotJson.Deserialize(stdout.ToString());
            Assert.Equal([0, 1], snapshot.Workers.Select(w => w.Latest.Rank));
            Assert.Contains(snapshot.Members, m => m.Roles.Contains(MonitoringConfig.MonitorRole));
        }
        finally
        {
            stopPublishing.Cancel();
            await worker.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public void SeedAddressesAreCheckedAndNameOneSystem()
    {
        var (system, seeds) = MonitorNode.ParseSeeds(["akka.tcp://actorface@127.0.0.1:4053, akka.tcp://actorface@127.0.0.1:4054"]);
        Assert.Equal("actorface", system);
        Assert.Equal(2, seeds.Count);
        Assert.Contains("different actor systems", Assert.Throws<ArgumentException>(() =>
            MonitorNode.ParseSeeds(["akka.tcp://a@127.0.0.1:1,akka.tcp://b@127.0.0.1:2"])).Message);
        Assert.Contains("not an address", Assert.Throws<FormatException>(() => MonitorNode.ParseSeeds(["127.0.0.1:4053"])).Message);
    }
}
