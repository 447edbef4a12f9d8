using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;

namespace ActorFace.Host.Tests.Chaos;

/// <summary>The coordinator decisions the chaos runs depend on: a job that starts with all its nodes but continues
/// on fewer, and a moved coordinator that waits for the survivors instead of restarting on the first one.</summary>
public sealed class RegroupDecisionTests
{
    private static TrainingSettings Settings(int startWorkers) => TrainingSettings.Default with
    {
        BatchSize = 4, NumEpoch = 1, NumImage = 96, NumClasses = 6, Dataset = "synthetic", CheckpointEvery = 4,
        Cluster = TrainingSettings.Default.Cluster with { WorkersPerNode = 1, MinWorkers = 1, StartWorkers = startWorkers, MaxRestarts = 5 },
    };

    private static RegisterNode Node(string id, int lastGeneration = 0) =>
        new(ActorRefs.Nobody, id, ["127.0.0.1:5000"], 96, "fp", lastGeneration);

    private static StartGeneration? Start(IEnumerable<CoordinatorCommand> commands) =>
        commands.OfType<SendToNode>().Select(s => s.Message).OfType<StartGeneration>().FirstOrDefault();

    [Fact]
    public void StartsWithStartWorkersAndContinuesWithMinWorkers()
    {
        var state = new CoordinatorState(Settings(startWorkers: 3), null, "fp");
        Assert.Null(Start(state.Register(Node("a"))));
        Assert.Null(Start(state.Register(Node("b"))));
        Assert.Equal(3, Start(state.Register(Node("c")))!.WorldSize);

        state.NodeLost("c");
        var commands = state.GenerationAborted(new GenerationAborted(1, "a")).Concat(state.GenerationAborted(new GenerationAborted(1, "b")));
        var next = Start(commands);
        Assert.NotNull(next);
        Assert.Equal((2, 2), (next.Generation, next.WorldSize));
    }

    [Fact]
    public void AMovedCoordinatorWaitsForTheSurvivorsUntilItsGraceEnds()
    {
        var state = new CoordinatorState(Settings(startWorkers: 3), null, "fp") { ExpectedNodes = 2 };
        Assert.Null(Start(state.Register(Node("b", lastGeneration: 4))));
        var start = Start(state.Register(Node("c", lastGeneration: 4)));
        Assert.Equal((5, 2), (start!.Generation, start.WorldSize));

        var alone = new CoordinatorState(Settings(startWorkers: 3), null, "fp") { ExpectedNodes = 2 };
        Assert.Null(Start(alone.Register(Node("b", lastGeneration: 4))));
        Assert.Equal(1, Start(alone.GraceOver())!.WorldSize);
    }
}
