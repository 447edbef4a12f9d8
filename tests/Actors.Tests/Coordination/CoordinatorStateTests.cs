using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;

namespace ActorFace.Actors.Tests.Coordination;

public sealed class CoordinatorStateTests
{
    private const string Fp = "fp";

    private static TrainingSettings Settings(int minWorkers = 4, int checkpointEvery = 10, long maxSteps = 0, bool resume = false) => TrainingSettings.Default with
    {
        BatchSize = 4, NumEpoch = 2, NumImage = 160, NumClasses = 10, Dataset = "synthetic",
        CheckpointEvery = checkpointEvery, MaxSteps = maxSteps, Resume = resume,
        Cluster = TrainingSettings.Default.Cluster with { WorkersPerNode = 2, MinWorkers = minWorkers, MaxRestarts = 2 },
    };

    private static RegisterNode Node(string id, int slots = 2, long count = 160, string fp = Fp, int lastGeneration = 0) =>
        new(ActorRefs.Nobody, id, Enumerable.Range(0, slots).Select(s => $"127.0.0.1:{5000 + s}").ToArray(), count, fp, lastGeneration);

    private static T Single<T>(IEnumerable<CoordinatorCommand> commands, string node) =>
        commands.OfType<SendToNode>().Where(s => s.NodeId == node).Select(s => s.Message).OfType<T>().Single();

    private static CoordinatorState Running(TrainingSettings? settings = null, (CheckpointManifest, string)? disk = null)
    {
        var state = new CoordinatorState(settings ?? Settings(), disk, Fp);
        state.Register(Node("a"));
        state.Register(Node("b"));
        return state;
    }

    [Fact]
    public void WaitsForMinWorkersThenAssignsRanksInRegistrationOrder()
    {
        var state = new CoordinatorState(Settings(), null, Fp);
        var first = state.Register(Node("a"));
        Assert.Contains(first, c => c is StartRegroupTimer);
        Assert.Equal(CoordinatorState.Phase.Waiting, state.Current);
        var second = state.Register(Node("b"));
        Assert.Contains(second, c => c is CancelRegroupTimer);
        Assert.Contains(second, c => c is ClearCheckpoints);
        var start = Single<StartGeneration>(second, "a");
        Assert.Equal(start, Single<StartGeneration>(second, "b"));
        Assert.Equal(1, start.Generation);
        Assert.False(start.LocalCollective);
        Assert.Equal(["a", "a", "b", "b"], start.Ranks.Select(r => r.NodeId));
        Assert.Equal([0, 1, 0, 1], start.Ranks.Select(r => r.Slot));
        Assert.Equal(0, start.StartStep);
        Assert.Equal((10L, LeaseAction.Checkpoint), (start.LeaseStep, start.LeaseAction));
        Assert.Equal(20, state.Plan!.TotalIterations); // 160 / 16 per step x 2 epochs
    }

    [Fact]
    public void AllAcksWriteTheManifestAndGrantTheNextLeaseUpToTheEnd()
    {
        var state = Running();
        for (var rank = 0; rank < 3; rank++)
            Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, rank, 10)));
        var done = state.CheckpointSaved(new CheckpointSaved(1, 3, 10));
        var manifest = done.OfType<WriteManifest>().Single().Manifest;
        Assert.Equal((10L, 4, 4, 1), (manifest.Step, manifest.WorldSize, manifest.BatchSize, manifest.Epoch));
        Assert.Equal(new RunUntil(1, 20, LeaseAction.Finish), Single<RunUntil>(done, "b"));
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 3, 10))); // duplicate ack
        for (var rank = 0; rank < 4; rank++) state.CheckpointSaved(new CheckpointSaved(1, rank, 20));
        for (var rank = 0; rank < 3; rank++) Assert.Empty(state.RankFinished(new RankFinished(1, rank, 20)));
        var end = state.RankFinished(new RankFinished(1, 3, 20)).OfType<EndJob>().Single();
        Assert.True(end.Success);
        Assert.Equal(CoordinatorState.Phase.Ended, state.Current);
    }

    [Fact]
    public void CheckpointEveryZeroMeansEveryEpochAndMaxStepsHalts()
    {
        var state = Running(Settings(checkpointEvery: 0, maxSteps: 15));
        Assert.Equal((10L, LeaseAction.Checkpoint), state.NextLease(0));
        Assert.Equal((15L, LeaseAction.Halt), state.NextLease(10));
    }

    [Fact]
    public void RankFailureAbortsThenRestartsFromTheLastManifestWithTheSameMembers()
    {
        var state = Running();
        var manifest = new CheckpointManifest { Step = 10, WorldSize = 4, BatchSize = 4 };
        state.ManifestWritten(manifest, "/out/checkpoints/step_00000010.manifest.json");
        var abort = state.RankFailed(new RankFailed(1, 2, "boom"));
        Assert.Equal(new AbortGeneration(1, "rank 2 failed: boom"), Single<AbortGeneration>(abort, "a"));
        Assert.Equal(CoordinatorState.Phase.Aborting, state.Current);
        Assert.Empty(state.RankFailed(new RankFailed(1, 0, "collective aborted"))); // follow-up failures are ignored
        Assert.Empty(state.GenerationAborted(new GenerationAborted(1, "a")));
        var restart = state.GenerationAborted(new GenerationAborted(1, "b"));
        var start = Single<StartGeneration>(restart, "a");
        Assert.Equal(2, start.Generation);
        Assert.Equal(10, start.StartStep);
        Assert.Equal("/out/checkpoints/step_00000010.manifest.json", start.ResumeManifest);
        Assert.DoesNotContain(restart, c => c is ClearCheckpoints);
        Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, 0, 20))); // stale generation
    }

    [Fact]
    public void LostNodeRegroupsWithTheSurvivorsAndStandbysAndReshardsTheStep()
    {
        var state = new CoordinatorState(Settings(minWorkers: 2), null, Fp);
        state.Register(Node("a", slots: 1));
        Assert.Equal(2, Single<StartGeneration>(state.Register(Node("b", slots: 1)), "a").WorldSize);
        Assert.True(Single<NodeAccepted>(state.Register(Node("c", slots: 2)), "c").Standby);
        state.ManifestWritten(new CheckpointManifest { Step = 10, WorldSize = 2, BatchSize = 4 }, "m10");
        var lost = state.NodeLost("b");
        var abort = Single<AbortGeneration>(lost, "a");
        Assert.DoesNotContain(lost.OfType<SendToNode>(), s => s.NodeId != "a");
        var restart = state.GenerationAborted(new GenerationAborted(abort.Generation, "a"));
        var start = Single<StartGeneration>(restart, "c");
        Assert.Equal(["a", "c", "c"], start.Ranks.Select(r => r.NodeId));
        Assert.False(start.LocalCollective);
        Assert.Equal(6, start.StartStep); // 10 steps of 8 samples = 6 whole steps of 12
    }

    [Fact]
    public void AnUnreachableNodeIsNotWaitedForAndIsAdmittedAgainWhenItRegisters()
    {
        var state = Running();
        state.RankFailed(new RankFailed(1, 0, "socket closed"));
        var lost = state.NodeLost("b", unreachable: true);
        Assert.Equal("node b is unreachable", lost.OfType<Log>().First().Message);
        Assert.Empty(state.GenerationAborted(new GenerationAborted(1, "b"))); // no longer expected
        var regroup = state.GenerationAborted(new GenerationAborted(1, "a"));
        Assert.Contains(regroup, c => c is StartRegroupTimer); // 2 of 4 slots: wait for min_workers
        var back = state.Register(Node("b")); // it was only paused
        Assert.Equal(4, Single<StartGeneration>(back, "b").WorldSize);
        Assert.Empty(state.NodeLost("x", unreachable: true));
    }

    [Fact]
    public void TooFewSurvivorsWaitThenTimeOut()
    {
        var state = Running();
        state.NodeLost("b");
        var after = state.GenerationAborted(new GenerationAborted(1, "a"));
        Assert.Contains(after, c => c is StartRegroupTimer);
        var end = state.RegroupTimedOut().OfType<EndJob>().Single();
        Assert.False(end.Success);
        Assert.Contains("only 2 of the 4 workers", end.Message);
    }

    [Fact]
    public void GivesUpAfterMaxRestarts()
    {
        var state = Running();
        for (var i = 1; i <= 2; i++)
        {
            state.RankFailed(new RankFailed(i, 0, "x"));
            state.GenerationAborted(new GenerationAborted(i, "a"));
            state.GenerationAborted(new GenerationAborted(i, "b"));
        }
        var last = state.RankFailed(new RankFailed(3, 0, "x"));
        var end = last.OfType<EndJob>().Single();
        Assert.False(end.Success);
        Assert.Contains("max_restarts", end.Message);
    }

    [Fact]
    public void RefusesNodesWithOtherSettingsOrOtherData()
    {
        var state = new CoordinatorState(Settings(), null, Fp);
        state.Register(Node("a"));
        Assert.Contains("settings differ", Single<NodeRejected>(state.Register(Node("b", fp: "other")), "b").Reason);
        Assert.Contains("dataset has 99 images", Single<NodeRejected>(state.Register(Node("c", count: 99)), "c").Reason);
        Assert.Equal(2, state.RegisteredSlots);
    }

    [Fact]
    public void ALateNodeIsAStandbyUntilTheNextGeneration()
    {
        var state = Running();
        var late = state.Register(Node("c"));
        Assert.True(Single<NodeAccepted>(late, "c").Standby);
        state.RankFailed(new RankFailed(1, 0, "x"));
        state.GenerationAborted(new GenerationAborted(1, "a"));
        var start = Single<StartGeneration>(state.GenerationAborted(new GenerationAborted(1, "b")), "c");
        Assert.Equal(6, start.WorldSize);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AStandbyIsAdmittedAtTheNextCheckpointUnlessScaleUpIsOff(bool scaleUp)
    {
        var settings = Settings();
        var state = Running(settings with { Cluster = settings.Cluster with { ScaleUp = scaleUp } });
        state.Register(Node("c"));
        for (var rank = 0; rank < 3; rank++)
            Assert.Empty(state.CheckpointSaved(new CheckpointSaved(1, rank, 10)));
        var last = state.CheckpointSaved(new CheckpointSaved(1, 3, 10));
        var manifest = Assert.IsType<WriteManifest>(last[0]).Manifest;
        state.ManifestWritten(manifest, "m10");
        if (!scaleUp)
        {
            Assert.Equal(new RunUntil(1, 20, LeaseAction.Finish), Single<RunUntil>(last, "a"));
            return;
        }
        Assert.Contains("to admit stand-by node(s) c (scale up)", last.OfType<Log>().Single().Message);
        Assert.Equal(1, Single<AbortGeneration>(last, "b").Generation);
        Assert.DoesNotContain(last.OfType<SendToNode>(), s => s.NodeId == "c" || s.Message is RunUntil);
        Assert.Contains(last, c => c is StartAbortTimer);
        state.GenerationAborted(new GenerationAborted(1, "a"));
        var restart = state.GenerationAborted(new GenerationAborted(1, "b"));
        var start = Single<StartGeneration>(restart, "c");
        Assert.Equal((2, 6, "m10"), (start.Generation, start.WorldSize, start.ResumeManifest));
        Assert.Equal(6, start.StartStep); // 10 steps of 16 samples = 6 whole steps of 24
        Assert.Equal(ClusterEventKind.Info, restart.OfType<Log>().Single().Kind); // planned: not a recovery
        Assert.Equal(0, state.Restarts);
    }

    [Fact]
    public void ANodeThatDoesNotConfirmTheAbortIsDownedAndTheOthersRegroup()
    {
        var settings = Settings(minWorkers: 2);
        var state = Running(settings with { Cluster = settings.Cluster with { StartWorkers = 4 } });
        var abort = state.RankFailed(new RankFailed(1, 3, "hung"));
        Assert.Equal(new StartAbortTimer(1), abort.OfType<StartAbortTimer>().Single());
        Assert.Empty(state.GenerationAborted(new GenerationAborted(1, "a")));
        Assert.Empty(state.AbortTimedOut(0)); // a stale deadline
        var timedOut = state.AbortTimedOut(1);
        Assert.Equal(new DownNode("b"), timedOut.OfType<DownNode>().Single());
        var start = Single<StartGeneration>(timedOut, "a");
        Assert.Equal((2, 2), (start.Generation, start.WorldSize));
        Assert.Equal(["a"], state.Nodes);
        Assert.Empty(state.AbortTimedOut(1));
    }

    [Fact]
    public void ResumeNeedsACheckpointAndASuccessorContinuesTheJob()
    {
        var noCheckpoint = new CoordinatorState(Settings(resume: true), null, Fp);
        noCheckpoint.Register(Node("a"));
        Assert.False(noCheckpoint.Register(Node("b")).OfType<EndJob>().Single().Success);

        var disk = (new CheckpointManifest { Step = 10, WorldSize = 4, BatchSize = 4 }, "m10");
        var successor = new CoordinatorState(Settings(), disk, Fp);
        successor.Register(Node("a", lastGeneration: 3));
        var start = Single<StartGeneration>(successor.Register(Node("b", lastGeneration: 3)), "a");
        Assert.Equal(4, start.Generation);
        Assert.Equal(10, start.StartStep);
    }

    [Fact]
    public void ADatasetTooSmallForOneStepEndsTheJob()
    {
        var state = new CoordinatorState(Settings(minWorkers: 2), null, Fp);
        var end = state.Register(Node("a", count: 5)).OfType<EndJob>().Single();
        Assert.False(end.Success);
        Assert.Contains("too few", end.Message);
    }

    [Fact]
    public void RelaysRank0sNcclIdToTheNodesOfItsGenerationOnly()
    {
        var state = Running();
        var id = new NcclUniqueId(state.Generation, new byte[128]);
        var relayed = state.NcclIdOffered(id);
        Assert.Same(id, Single<NcclUniqueId>(relayed, "a"));
        Assert.Same(id, Single<NcclUniqueId>(relayed, "b"));
        Assert.Empty(state.NcclIdOffered(id with { Generation = state.Generation - 1 }));
    }

    [Fact]
    public void ChoosesNcclOnlyWhenEveryNodeOfTheGenerationHasIt()
    {
        var cuda = Settings(minWorkers: 4) with { Device = "cuda" };
        var state = new CoordinatorState(cuda, null, Fp);
        state.Register(Node("a") with { NcclUnavailable = "" });
        var start = Single<StartGeneration>(state.Register(Node("b") with { NcclUnavailable = "" }), "a");
        Assert.True(start.Nccl);
        Assert.False(start.LocalCollective);

        var mixed = new CoordinatorState(cuda, null, Fp);
        mixed.Register(Node("a") with { NcclUnavailable = "" });
        var tcp = Single<StartGeneration>(mixed.Register(Node("b") with { NcclUnavailable = "libnccl.so.2 not found" }), "a");
        Assert.False(tcp.Nccl);

        var forced = new CoordinatorState(cuda with { Collective = "nccl" }, null, Fp);
        forced.Register(Node("a") with { NcclUnavailable = "" });
        var end = Assert.Single(forced.Register(Node("b") with { NcclUnavailable = "libnccl.so.2 not found" }).OfType<EndJob>());
        Assert.False(end.Success);
        Assert.Contains("NCCL is unavailable on b", end.Message);
    }
}
