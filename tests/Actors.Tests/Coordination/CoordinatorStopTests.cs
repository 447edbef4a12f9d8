using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;

namespace ActorFace.Actors.Tests.Coordination;

/// <summary>Graceful stop (SIGTERM) decisions of the coordinator: a common stop step ahead of every rank, a checkpoint
/// there, then the end of the job naming it; without one in time, the end names the last complete checkpoint.</summary>
public sealed class CoordinatorStopTests
{
    private const string Fp = "fp";

    // 2 nodes x 2 ranks x batch 4 = 16 per step, 160 images x 2 epochs = 20 steps; lease to step 10.
    private static readonly TrainingSettings Settings = TrainingSettings.Default with
    {
        BatchSize = 4, NumEpoch = 2, NumImage = 160, NumClasses = 10, Dataset = "synthetic", CheckpointEvery = 10,
        StopGracePeriod = TimeSpan.FromSeconds(30),
        Cluster = TrainingSettings.Default.Cluster with { WorkersPerNode = 2, MinWorkers = 4, MaxRestarts = 2 },
    };

    private static RegisterNode Node(string id) =>
        new(ActorRefs.Nobody, id, ["127.0.0.1:5000", "127.0.0.1:5001"], 160, Fp, 0);

    private static CoordinatorState Running((CheckpointManifest, string)? disk = null)
    {
        var state = new CoordinatorState(Settings with { Resume = disk is not null }, disk, Fp);
        state.Register(Node("a"));
        state.Register(Node("b"));
        return state;
    }

    private static IEnumerable<T> Sent<T>(IEnumerable<CoordinatorCommand> commands) =>
        commands.OfType<SendToNode>().Select(s => s.Message).OfType<T>();

    [Fact]
    public void StopsEveryRankAtOneStepAheadOfTheFurthestThenEndsAfterItsCheckpoint()
    {
        var state = Running();
        var asked = state.StopRequested(new StopRequested("a", "SIGTERM"));
        Assert.Contains(asked, c => c is StartStopTimer);
        Assert.Equal(2, Sent<ReportPosition>(asked).Count());
        Assert.Empty(state.StopRequested(new StopRequested("b", "SIGTERM"))); // every node got the signal: one stop

        Assert.Empty(state.NodePositionReported(new NodePosition(1, "a", 3)));
        var planned = state.NodePositionReported(new NodePosition(1, "b", 4));
        var target = 4 + CoordinatorState.StopMargin;
        Assert.Equal([new StopAt(1, target), new StopAt(1, target)], Sent<StopAt>(planned));

        for (var rank = 0; rank < 3; rank++)
            Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, rank, target)));
        var done = state.CheckpointSaved(new CheckpointSaved(1, 3, target));
        Assert.Equal(target, done.OfType<WriteManifest>().Single().Manifest.Step);
        var end = done.OfType<EndJob>().Single();
        Assert.True(end.Success);
        Assert.Equal($"stopped on SIGTERM: checkpoint of step {target} written (checkpoints/step_0000000{target}.manifest.json); " +
                     "continue with the same command and --resume", end.Message);
        Assert.Empty(Sent<RunUntil>(done)); // no further lease
        Assert.Equal(CoordinatorState.Phase.Ended, state.Current);
    }

    [Fact]
    public void WhenTheLeaseEndsFirstItsCheckpointEndsTheJob()
    {
        var state = Running();
        state.StopRequested(new StopRequested("a", "SIGINT"));
        state.NodePositionReported(new NodePosition(1, "a", 9));
        Assert.Empty(Sent<StopAt>(state.NodePositionReported(new NodePosition(1, "b", 9))));
        for (var rank = 0; rank < 3; rank++) state.CheckpointSaved(new CheckpointSaved(1, rank, 10));
        var end = state.CheckpointSaved(new CheckpointSaved(1, 3, 10)).OfType<EndJob>().Single();
        Assert.StartsWith("stopped on SIGINT: checkpoint of step 10 written", end.Message);
    }

    [Fact]
    public void WithoutACheckpointWithinTheGracePeriodTheJobEndsWithTheLastCompleteOne()
    {
        var manifest = new CheckpointManifest { Step = 10, WorldSize = 4, BatchSize = 4 };
        var state = Running((manifest, "/out/checkpoints/step_00000010.manifest.json"));
        state.StopRequested(new StopRequested("b", "SIGTERM"));
        var end = state.StopGraceOver().OfType<EndJob>().Single();
        Assert.True(end.Success);
        Assert.Equal("stopped on SIGTERM: no new checkpoint completed within stop_grace_period = 30 s; the last complete checkpoint " +
                     "is step 10 (checkpoints/step_00000010.manifest.json); continue with the same command and --resume", end.Message);
        Assert.Empty(state.StopGraceOver());
    }

    [Fact]
    public void BeforeTheJobStartsOrWhileRegroupingTheStopEndsItAtOnce()
    {
        var waiting = new CoordinatorState(Settings, null, Fp);
        waiting.Register(Node("a"));
        var end = waiting.StopRequested(new StopRequested("a", "SIGTERM")).OfType<EndJob>().Single();
        Assert.Equal("stopped on SIGTERM: there is no checkpoint yet: the next run starts from scratch", end.Message);

        var state = Running();
        state.StopRequested(new StopRequested("a", "SIGTERM"));
        var aborted = state.RankFailed(new RankFailed(1, 2, "boom"));
        var abortEnd = state.GenerationAborted(new GenerationAborted(1, "a")).Concat(state.GenerationAborted(new GenerationAborted(1, "b")));
        Assert.Contains(abortEnd, c => c is EndJob { Success: true });
        Assert.Empty(Sent<StartGeneration>(abortEnd)); // no restart while stopping
    }
}

/// <summary>checkpoint_failure: stop ends the job naming the intact previous checkpoint; continue skips the manifest
/// and grants the next lease once every rank answered.</summary>
public sealed class CoordinatorCheckpointFailureTests
{
    private static TrainingSettings Settings(string policy) => TrainingSettings.Default with
    {
        BatchSize = 4, NumEpoch = 2, NumImage = 160, NumClasses = 10, Dataset = "synthetic", CheckpointEvery = 10, Resume = true,
        CheckpointFailure = policy, Cluster = TrainingSettings.Default.Cluster with { WorkersPerNode = 2, MinWorkers = 4, MaxRestarts = 2 },
    };

    private static CoordinatorState Running(string policy)
    {
        var previous = new CheckpointManifest { Step = 0, WorldSize = 4, BatchSize = 4 };
        var state = new CoordinatorState(Settings(policy), (previous, "/out/checkpoints/step_00000000.manifest.json"), "fp");
        foreach (var id in new[] { "a", "b" })
            state.Register(new RegisterNode(ActorRefs.Nobody, id, ["127.0.0.1:5000", "127.0.0.1:5001"], 160, "fp", 0));
        return state;
    }

    [Fact]
    public void StopEndsTheJobAtTheFirstFailureNamingThePreviousCheckpoint()
    {
        var state = Running("stop");
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 0, 10)));
        var end = state.CheckpointFailed(new CheckpointFailed(1, 2, 10, "No space left on device")).OfType<EndJob>().Single();
        Assert.False(end.Success);
        Assert.Equal("the checkpoint of step 10 could not be written (rank 2: No space left on device); the previous checkpoint, step 0 " +
                     "(checkpoints/step_00000000.manifest.json), is intact and loadable. Free space or fix permissions, then continue with " +
                     "--resume (or set checkpoint_failure = continue to train on without checkpoints)", end.Message);
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 1, 10)));
    }

    [Fact]
    public void ContinueSkipsTheManifestAndGrantsTheNextLease()
    {
        var state = Running("continue");
        Assert.Empty(state.CheckpointFailed(new CheckpointFailed(1, 1, 10, "disk full")));
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 0, 10)));
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 2, 10)));
        var next = state.CheckpointSaved(new CheckpointSaved(1, 3, 10));
        Assert.Empty(next.OfType<WriteManifest>());
        Assert.Contains(next, c => c is Log l && l.Message.StartsWith("checkpoint of step 10 skipped: it could not be written (rank 1: disk full)"));
        Assert.Equal(2, next.OfType<SendToNode>().Select(s => s.Message).OfType<RunUntil>().Count(r => r == new RunUntil(1, 20, LeaseAction.Finish)));
        Assert.Equal(CoordinatorState.Phase.Running, state.Current);

        // The manifest of the last step fails too: logged, the job goes on.
        Assert.DoesNotContain(state.ManifestWriteFailed(20, "disk full"), c => c is EndJob);
    }
}
