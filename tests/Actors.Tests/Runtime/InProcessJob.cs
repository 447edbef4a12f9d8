using ActorFace.Actors.Hosting;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Tests.Fakes;
using ActorFace.Actors.Workers;
using Akka.Actor;

namespace ActorFace.Actors.Tests.Runtime;

/// <summary>Runs a whole job (cluster of one node, coordinator singleton, ranks) inside the test process.</summary>
public static class InProcessJob
{
    public static TrainingSettings Settings(string output, int ranks, int batch, int epochs = 2, long images = 40) => TrainingSettings.Default with
    {
        Output = output,
        Dataset = "synthetic",
        NumClasses = 10,
        NumImage = images,
        NumEpoch = epochs,
        BatchSize = batch,
        Lr = 0.5,
        Frequent = 2,
        Verbose = 1000,
        CheckpointEvery = 3,
        KeepCheckpoints = 2,
        Cluster = TrainingSettings.Default.Cluster with { WorkersPerNode = ranks, JoinTimeout = TimeSpan.FromSeconds(20), CollectiveTimeout = TimeSpan.FromSeconds(30) },
    };

    public static async Task<TrainingEnded> RunAsync(TrainingSettings settings, RankServices services, TextWriter? console = null)
    {
        var system = ActorSystem.Create(ClusterHocon.SystemName, ClusterHocon.Build(settings, extraHocon: "akka.loglevel = WARNING"));
        try
        {
            await TrainingNode.JoinAsync(system, settings);
            var outcome = TrainingNode.Start(system, settings, services, console);
            var done = await Task.WhenAny(outcome, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(done == outcome, "the job did not end within 60 s");
            return await outcome;
        }
        finally
        {
            await system.Terminate();
        }
    }

    public static RankServices Fake(FakeRunLog log, long datasetCount = 40, (int, int, long)? failAt = null) =>
        new(new FakeTrainerFactory(log) { FailAt = failAt }, new FakeDataFactory(datasetCount), new FakeCollectives());
}
