using System.Net;
using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

public class MonitoringHostTests
{
    [Fact]
    public async Task TrainingNodeServesItsOwnMetricsAndRegistersTheRun()
    {
        var dir = Directory.CreateTempSubdirectory("actorface-host-");
        var previous = Environment.GetEnvironmentVariable(LocalRunRegistry.TempFileVariable);
        Environment.SetEnvironmentVariable(LocalRunRegistry.TempFileVariable, Path.Combine(dir.FullName, "local-seed.json"));
        var system = ActorSystem.Create("actorface", MonitorNode.ClusterConfig("127.0.0.1", 0, ["worker"], [], "WARNING"));
        try
        {
            await Cluster.Get(system).JoinAsync(Cluster.Get(system).SelfAddress).WaitAsync(TimeSpan.FromSeconds(20));
            var output = Path.Combine(dir.FullName, "run");
            var host = MonitoringHost.Start(system, new MonitoringHostOptions
            {
                Http = new IPEndPoint(IPAddress.Loopback, 0),
                OutputDir = output,
                TensorBoardDir = Path.Combine(output, "tensorboard"),
            });

            var registered = LocalRunRegistry.Find(output);
            Assert.Equal([Cluster.Get(system).SelfAddress.ToString()], registered.SeedNodes);
            Assert.Equal(host.HttpUrl, $"http://{registered.HttpEndpoint}/");

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            MonitorSnapshot? snapshot = null;
            for (var i = 0; i < 100 && snapshot?.Workers.Count is not 1; i++)
            {
                MetricsPublisher.Publish(system, SampleSnapshot.Worker(0, 10 + i, 30));
                await Task.Delay(100);
                snapshot = MonitorSnapshotJson.Deserialize(await client.GetStringAsync(host.HttpUrl + "status"));
            }
            Assert.Equal(0, Assert.Single(snapshot!.Workers).Latest.Rank);
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(output, "tensorboard"), "events.out.tfevents.*"));

            await host.DisposeAsync();
            Assert.False(File.Exists(LocalRunRegistry.OutputFile(output)));
            Assert.False(File.Exists(LocalRunRegistry.TempFile));
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
            Environment.SetEnvironmentVariable(LocalRunRegistry.TempFileVariable, previous);
            dir.Delete(recursive: true);
        }
    }
}
