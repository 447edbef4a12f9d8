using ActorFace.Actors.Protocol;

namespace ActorFace.Actors.Workers;

/// <summary>
/// The decisions of one rank of one generation, free of actors and I/O so that they can be tested directly (the rank
/// side of <see cref="Coordination.CoordinatorState"/>): the lease (how far to run, what to do at its end), the
/// credits of the data feed, the checkpoint of a lease's end (write, commit, failure), the graceful-stop target and
/// the NaN/inf loss policy. Every input returns the commands that <see cref="GpuWorker"/> executes, in order; an input
/// that means the rank is broken (a batch out of order, a stop target already passed) throws, and a loss that stays
/// non-finite ends in <see cref="RollBack"/>: either way its node reports the failure and the generation restarts.
/// </summary>
public sealed class RankState
{
    private readonly int _rank;
    private readonly int _generation;
    private readonly long _startStep;
    private readonly int _prefetch;
    private readonly RankRole _role;
    private readonly NonFiniteLossGuard _nonFinite;
    private long _granted;
    private bool _running;
    private bool _checkpointPending;
    private string? _checkpointError;

    /// <param name="start">The generation's first lease and the step it starts after.</param>
    /// <param name="prefetch">Batches the rank keeps requested or waiting (`data.prefetch`).</param>
    public RankState(int rank, StartGeneration start, int prefetch, int maxNonFiniteSteps, RankRole role)
    {
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "data.prefetch must be >= 1");
        _rank = rank;
        _generation = start.Generation;
        _startStep = start.StartStep;
        _prefetch = prefetch;
        _role = role;
        _nonFinite = new NonFiniteLossGuard(maxNonFiniteSteps);
        Done = start.StartStep;
        LeaseStep = start.LeaseStep;
        LeaseAction = start.LeaseAction;
    }

    /// <summary>Steps completed (global, 1-based: step S done means S iterations have run).</summary>
    public long Done { get; private set; }
    public long LeaseStep { get; private set; }
    public LeaseAction LeaseAction { get; private set; }
    public bool CheckpointPending => _checkpointPending;

    /// <summary>NaN/inf steps skipped in this generation (for the metrics).</summary>
    public long NonFiniteSkipped => _nonFinite.Skipped;

    /// <summary>Trainer and data feed are ready: run the lease.</summary>
    public IReadOnlyList<RankCommand> Started()
    {
        _running = true;
        return [new UnstashBatches(), .. ContinueLease()];
    }

    /// <summary>The coordinator's next lease. <paramref name="stopStep"/>: the node's graceful-stop target
    /// (long.MaxValue: none); a rank that reached it takes no further lease.</summary>
    public IReadOnlyList<RankCommand> Lease(RunUntil lease, long stopStep)
    {
        if (lease.Generation != _generation || lease.Step < LeaseStep || stopStep <= Done)
            return [];
        var resume = Done == LeaseStep && !_checkpointPending;
        (LeaseStep, LeaseAction) = (lease.Step, lease.Action);
        return resume && _running ? [new UnstashBatches(), .. ContinueLease()] : [];
    }

    /// <summary>The feed delivered the batch of <paramref name="batchStep"/>.</summary>
    public IReadOnlyList<RankCommand> BatchArrived(long batchStep, long stopStep)
    {
        if (ApplyStopTarget(stopStep) && Done == LeaseStep)
            return [new StashBatch(), .. EndOfLease()]; // the stop target is the step just done
        if (Done >= LeaseStep)
            return [new StashBatch()]; // prefetched beyond the lease: keep it for the next lease
        var step = Done + 1;
        if (batchStep != step)
            throw new InvalidOperationException($"rank {_rank} expected the batch of step {step} but got step {batchStep}");
        return [new TrainStep(step)];
    }

    /// <summary>The trainer ran <paramref name="step"/> with <paramref name="loss"/> (the same on every rank).</summary>
    public IReadOnlyList<RankCommand> StepDone(long step, double loss, long stopStep)
    {
        var commands = new List<RankCommand>();
        var verdict = _nonFinite.Observe(loss);
        if (verdict != NonFiniteVerdict.Trained)
        {
            // The trainer skipped the update: say so, and roll back when it persists.
            commands.Add(new WarnRank($"loss is {loss} at step {step}: step skipped (no weight update; {_nonFinite.Consecutive} in a row, " +
                                      $"{_nonFinite.Skipped} in this generation; max_nonfinite_steps = {_nonFinite.MaxConsecutive})"));
            if (verdict == NonFiniteVerdict.RollBack)
            {
                commands.Add(new RollBack($"the loss was NaN or infinite for {_nonFinite.Consecutive} consecutive steps (up to step {step}; " +
                                          "max_nonfinite_steps): rolling back to the last complete checkpoint"));
                return commands;
            }
        }
        Done = step;
        commands.Add(new ReportProgress(step));
        commands.Add(new PublishStep(step));
        if (_role.Verifies && _role.VerifyEvery > 0 && step % _role.VerifyEvery == 0 && step < LeaseStep)
        {
            commands.Add(new VerifyBackbone(step));
            commands.Add(new ReportProgress(step));
        }
        ApplyStopTarget(stopStep);
        commands.AddRange(Done < LeaseStep ? TopUpCredits() : EndOfLease());
        return commands;
    }

    /// <summary>The temporary rank folder could not be made.</summary>
    public IReadOnlyList<RankCommand> CheckpointFolderFailed(string reason) => CheckpointWriteFailed(reason);

    /// <summary>The replica could not be written; reported once the shard actor is done with the folder.</summary>
    public IReadOnlyList<RankCommand> ReplicaSaveFailed(string reason)
    {
        _checkpointError = $"replica of rank {_rank}: {reason}";
        return [];
    }

    public IReadOnlyList<RankCommand> ShardSaved(long step)
    {
        if (!_checkpointPending || step != Done)
            return [];
        if (_checkpointError is { } error)
            return CheckpointWriteFailed(error);
        return [new CommitCheckpoint(Done, _role.IsRank0 && _role.SaveBackboneOnCheckpoint)];
    }

    public IReadOnlyList<RankCommand> ShardSaveFailed(long step, string reason) =>
        !_checkpointPending || step != Done ? [] : CheckpointWriteFailed(_checkpointError ?? reason);

    /// <summary>The rank folder (and backbone.pth when asked) is in place.</summary>
    public IReadOnlyList<RankCommand> CheckpointCommitted()
    {
        _checkpointPending = false;
        var commands = new List<RankCommand> { new NotifyCoordinator(new CheckpointSaved(_generation, _rank, Done)) };
        if (LeaseAction == LeaseAction.Finish)
        {
            if (_role.Verifies) commands.Add(new VerifyBackbone(Done));
            commands.Add(new NotifyCoordinator(new RankFinished(_generation, _rank, Done)));
        }
        return commands;
    }

    /// <summary>The commit (rename, or backbone.pth after it) failed.</summary>
    public IReadOnlyList<RankCommand> CheckpointCommitFailed(string reason) => CheckpointWriteFailed(reason);

    /// <summary>A checkpoint this rank could not write: its temporaries go, the coordinator decides (checkpoint_failure).</summary>
    private List<RankCommand> CheckpointWriteFailed(string reason)
    {
        _checkpointPending = false;
        var commands = new List<RankCommand>
        {
            new DiscardCheckpoint(Done, reason),
            new NotifyCoordinator(new CheckpointFailed(_generation, _rank, Done, reason)),
        };
        if (LeaseAction == LeaseAction.Finish)
            commands.Add(new NotifyCoordinator(new RankFinished(_generation, _rank, Done)));
        return commands;
    }

    /// <summary>Runs the steps left in the lease, or ends it when there are none.</summary>
    private List<RankCommand> ContinueLease() =>
        Done < LeaseStep ? [new ReportProgress(Done), .. TopUpCredits()] : EndOfLease();

    /// <summary>Keeps `prefetch` batches requested or waiting, never more (the feed never floods the rank).</summary>
    private List<RankCommand> TopUpCredits()
    {
        var buffered = _granted - (Done - _startStep); // requested or stashed, not yet stepped
        var want = _prefetch - buffered;
        if (want <= 0) return [];
        _granted += want;
        return [new GrantCredits((int)want)];
    }

    /// <summary>A graceful stop shortens the lease to the node's stop target (then checkpoint); true when it did.</summary>
    private bool ApplyStopTarget(long target)
    {
        if (target >= LeaseStep) return false;
        if (target < Done)
            throw new InvalidOperationException($"rank {_rank} already completed step {Done}, past step {target} where the stop was planned");
        (LeaseStep, LeaseAction) = (target, LeaseAction.Checkpoint);
        return true;
    }

    private List<RankCommand> EndOfLease()
    {
        if (LeaseAction == LeaseAction.Halt)
        {
            List<RankCommand> halt = [new ReportIdle()];
            if (_role.IsRank0) halt.Add(new SaveBackbone());
            halt.Add(new NotifyCoordinator(new RankFinished(_generation, _rank, Done)));
            return halt;
        }
        // Checkpoint (also before finishing).
        _checkpointPending = true;
        _checkpointError = null;
        return [new ReportIdle(), new WriteCheckpoint(Done)];
    }
}

/// <summary>What a rank does besides training: rank 0 writes backbone.pth (after each checkpoint when
/// `save_all_states`/save_backbone says so) and runs verification every <c>VerifyEvery</c> steps when it has targets.</summary>
public sealed record RankRole(bool IsRank0, bool SaveBackboneOnCheckpoint, bool Verifies, int VerifyEvery);
