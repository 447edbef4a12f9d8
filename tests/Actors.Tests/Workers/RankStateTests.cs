using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Tests.Workers;

/// <summary>The rank's decisions, input by input, without actors: leases, credits, checkpoints, stop, NaN/inf loss.</summary>
public class RankStateTests
{
    private const long NoStop = long.MaxValue;

    private static StartGeneration Generation(long start = 0, long lease = 10, LeaseAction action = LeaseAction.Checkpoint, int generation = 1) =>
        new(generation, [new RankSlot(0, "n1", 0, "127.0.0.1:1")], true, new StepPlan(1000, 1, 10, 1, 1000, 0), "", start, lease, action);

    private static RankState Rank0(StartGeneration g, bool verifies = false, int verifyEvery = 2000, int prefetch = 3) =>
        new(0, g, prefetch, maxNonFiniteSteps: 2, new RankRole(true, SaveBackboneOnCheckpoint: true, verifies, verifyEvery));

    private static RankState Rank1(StartGeneration g) => new(1, g, 3, 2, new RankRole(false, true, false, 2000));

    /// <summary>Runs steps up to <paramref name="last"/> and returns the commands of the last one.</summary>
    private static IReadOnlyList<RankCommand> RunTo(RankState s, long last, long stop = NoStop)
    {
        IReadOnlyList<RankCommand> commands = [];
        for (var step = s.Done + 1; step <= last; step++)
        {
            Assert.Equal([new TrainStep(step)], s.BatchArrived(step, stop));
            commands = s.StepDone(step, 1.0, stop);
        }
        return commands;
    }

    [Fact]
    public void StartReportsProgressAndGrantsPrefetchCredits()
    {
        var s = Rank0(Generation(start: 4, lease: 10));
        Assert.Equal([new UnstashBatches(), new ReportProgress(4), new GrantCredits(3)], s.Started());
    }

    [Fact]
    public void EveryStepTopsTheCreditsUpByOne()
    {
        var s = Rank0(Generation());
        s.Started();
        Assert.Equal([new TrainStep(1)], s.BatchArrived(1, NoStop));
        Assert.Equal([new ReportProgress(1), new PublishStep(1), new GrantCredits(1)], s.StepDone(1, 0.5, NoStop));
        Assert.Equal(1, s.Done);
    }

    [Fact]
    public void ABatchOutOfOrderFailsTheRank()
    {
        var s = Rank0(Generation());
        s.Started();
        var e = Assert.Throws<InvalidOperationException>(() => s.BatchArrived(2, NoStop));
        Assert.Contains("expected the batch of step 1 but got step 2", e.Message);
    }

    [Fact]
    public void TheEndOfACheckpointLeaseWritesACheckpointAndKeepsLaterBatches()
    {
        var s = Rank0(Generation(lease: 2));
        s.Started();
        Assert.Equal([new ReportProgress(2), new PublishStep(2), new ReportIdle(), new WriteCheckpoint(2)], RunTo(s, 2));
        Assert.True(s.CheckpointPending);
        Assert.Equal([new StashBatch()], s.BatchArrived(3, NoStop));
    }

    [Fact]
    public void ASavedShardIsCommittedThenAckedAndTheNextLeaseResumes()
    {
        var s = Rank0(Generation(lease: 2));
        s.Started();
        RunTo(s, 2);
        Assert.Empty(s.ShardSaved(1)); // not this checkpoint's step
        Assert.Equal([new CommitCheckpoint(2, WithBackbone: true)], s.ShardSaved(2));
        Assert.Equal([new NotifyCoordinator(new CheckpointSaved(1, 0, 2))], s.CheckpointCommitted());
        Assert.False(s.CheckpointPending);
        // 3 granted at the start, 1 after step 1: two batches are requested or stashed, one more is wanted.
        Assert.Equal([new UnstashBatches(), new ReportProgress(2), new GrantCredits(1)], s.Lease(new RunUntil(1, 4, LeaseAction.Checkpoint), NoStop));
        Assert.Equal(4, s.LeaseStep);
    }

    [Fact]
    public void OnlyRank0WritesTheBackbone()
    {
        var s = Rank1(Generation(lease: 1));
        s.Started();
        RunTo(s, 1);
        Assert.Equal([new CommitCheckpoint(1, WithBackbone: false)], s.ShardSaved(1));
    }

    [Fact]
    public void LeasesOfAnotherGenerationOrBehindTheCurrentOneAreIgnored()
    {
        var s = Rank0(Generation(lease: 2, generation: 3));
        s.Started();
        RunTo(s, 2);
        s.ShardSaved(2);
        s.CheckpointCommitted();
        Assert.Empty(s.Lease(new RunUntil(2, 8, LeaseAction.Checkpoint), NoStop));
        Assert.Empty(s.Lease(new RunUntil(3, 1, LeaseAction.Checkpoint), NoStop));
        Assert.Equal(2, s.LeaseStep);
    }

    [Fact]
    public void ALeaseBeforeTheRankIsReadyOnlyMovesTheTarget()
    {
        var s = Rank0(Generation(lease: 0));
        Assert.Empty(s.Lease(new RunUntil(1, 5, LeaseAction.Finish), NoStop));
        Assert.Equal([new UnstashBatches(), new ReportProgress(0), new GrantCredits(3)], s.Started());
        Assert.Equal(LeaseAction.Finish, s.LeaseAction);
    }

    [Fact]
    public void FinishingCommitsVerifiesOnRank0AndReportsFinished()
    {
        var s = Rank0(Generation(lease: 1, action: LeaseAction.Finish), verifies: true);
        s.Started();
        RunTo(s, 1);
        s.ShardSaved(1);
        Assert.Equal([new NotifyCoordinator(new CheckpointSaved(1, 0, 1)), new VerifyBackbone(1), new NotifyCoordinator(new RankFinished(1, 0, 1))],
            s.CheckpointCommitted());
    }

    [Fact]
    public void HaltingWritesTheBackboneOnRank0WithoutACheckpoint()
    {
        var s = Rank0(Generation(lease: 1, action: LeaseAction.Halt));
        s.Started();
        Assert.Equal([new ReportProgress(1), new PublishStep(1), new ReportIdle(), new SaveBackbone(), new NotifyCoordinator(new RankFinished(1, 0, 1))],
            RunTo(s, 1));
        Assert.False(s.CheckpointPending);
        var r1 = Rank1(Generation(lease: 1, action: LeaseAction.Halt));
        r1.Started();
        Assert.Equal([new ReportProgress(1), new PublishStep(1), new ReportIdle(), new NotifyCoordinator(new RankFinished(1, 1, 1))], RunTo(r1, 1));
    }

    [Fact]
    public void AShardThatCouldNotBeWrittenFailsTheCheckpointNotTheRank()
    {
        var s = Rank0(Generation(lease: 2));
        s.Started();
        RunTo(s, 2);
        Assert.Equal([new DiscardCheckpoint(2, "disk full"), new NotifyCoordinator(new CheckpointFailed(1, 0, 2, "disk full"))],
            s.ShardSaveFailed(2, "disk full"));
        Assert.False(s.CheckpointPending);
        Assert.Empty(s.ShardSaved(2)); // nothing pending any more
    }

    [Fact]
    public void AReplicaFailureIsReportedOnceTheShardIsWrittenAndAFinishingRankStillFinishes()
    {
        var s = Rank0(Generation(lease: 1, action: LeaseAction.Finish));
        s.Started();
        RunTo(s, 1);
        Assert.Empty(s.ReplicaSaveFailed("read-only file system"));
        const string reason = "replica of rank 0: read-only file system";
        Assert.Equal([new DiscardCheckpoint(1, reason), new NotifyCoordinator(new CheckpointFailed(1, 0, 1, reason)),
            new NotifyCoordinator(new RankFinished(1, 0, 1))], s.ShardSaved(1));
    }

    [Fact]
    public void AFailedCommitOrFolderFailsTheCheckpoint()
    {
        var s = Rank0(Generation(lease: 1));
        s.Started();
        RunTo(s, 1);
        s.ShardSaved(1);
        Assert.Equal([new DiscardCheckpoint(1, "rename"), new NotifyCoordinator(new CheckpointFailed(1, 0, 1, "rename"))], s.CheckpointCommitFailed("rename"));
        var t = Rank0(Generation(lease: 1));
        t.Started();
        RunTo(t, 1);
        Assert.Equal([new DiscardCheckpoint(1, "mkdir"), new NotifyCoordinator(new CheckpointFailed(1, 0, 1, "mkdir"))], t.CheckpointFolderFailed("mkdir"));
    }

    [Fact]
    public void ANonFiniteLossIsSkippedWithAWarningThenRollsBackWhenItPersists()
    {
        var s = Rank0(Generation());
        s.Started();
        s.BatchArrived(1, NoStop);
        var first = s.StepDone(1, double.NaN, NoStop);
        var warning = Assert.IsType<WarnRank>(first[0]);
        Assert.Contains("loss is NaN at step 1: step skipped", warning.Message);
        Assert.Equal([new ReportProgress(1), new PublishStep(1), new GrantCredits(1)], first.Skip(1));
        s.BatchArrived(2, NoStop);
        var second = s.StepDone(2, double.PositiveInfinity, NoStop);
        Assert.Equal(2, second.Count); // the warning still goes out, then the rank fails: nothing else
        Assert.Contains("at step 2: step skipped (no weight update; 2 in a row", Assert.IsType<WarnRank>(second[0]).Message);
        Assert.Contains("2 consecutive steps (up to step 2", Assert.IsType<RollBack>(second[1]).Reason);
        Assert.Equal(1, s.Done); // the skipped step is not counted as done
        Assert.Equal(2, s.NonFiniteSkipped);
    }

    [Fact]
    public void AFiniteLossResetsTheRunOfNonFiniteOnes()
    {
        var s = Rank0(Generation());
        s.Started();
        s.BatchArrived(1, NoStop);
        s.StepDone(1, double.NaN, NoStop);
        s.BatchArrived(2, NoStop);
        Assert.DoesNotContain(s.StepDone(2, 0.7, NoStop), c => c is WarnRank);
        s.BatchArrived(3, NoStop);
        Assert.IsType<WarnRank>(s.StepDone(3, double.NaN, NoStop)[0]); // one in a row again: no rollback
    }

    [Fact]
    public void AStopTargetShortensTheLeaseToACheckpoint()
    {
        var s = Rank0(Generation(lease: 10, action: LeaseAction.Finish));
        s.Started();
        Assert.Equal([new ReportProgress(2), new PublishStep(2), new ReportIdle(), new WriteCheckpoint(2)], RunTo(s, 2, stop: 2));
        Assert.Equal((2, LeaseAction.Checkpoint), (s.LeaseStep, s.LeaseAction));
        Assert.Empty(s.Lease(new RunUntil(1, 20, LeaseAction.Finish), 2)); // a stopped rank takes no further lease
    }

    [Fact]
    public void AStopTargetAtTheStepJustDoneEndsTheLeaseWhenTheNextBatchComes()
    {
        var s = Rank0(Generation(lease: 10));
        s.Started();
        RunTo(s, 3);
        Assert.Equal([new StashBatch(), new ReportIdle(), new WriteCheckpoint(3)], s.BatchArrived(4, 3));
    }

    [Fact]
    public void AStopTargetAlreadyPassedFailsTheRank()
    {
        var s = Rank0(Generation(lease: 10));
        s.Started();
        RunTo(s, 3);
        var e = Assert.Throws<InvalidOperationException>(() => s.BatchArrived(4, 2));
        Assert.Contains("already completed step 3, past step 2", e.Message);
    }

    [Fact]
    public void Rank0VerifiesEveryVerboseStepsInsideTheLease()
    {
        var s = Rank0(Generation(lease: 4, action: LeaseAction.Finish), verifies: true, verifyEvery: 2);
        s.Started();
        Assert.Equal([new ReportProgress(2), new PublishStep(2), new VerifyBackbone(2), new ReportProgress(2), new GrantCredits(1)], RunTo(s, 2));
        // At the lease's end verification comes after the final checkpoint instead.
        Assert.DoesNotContain(RunTo(s, 4), c => c is VerifyBackbone);
    }

    [Fact]
    public void PrefetchMustBePositive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Rank0(Generation(), prefetch: 0));
}
