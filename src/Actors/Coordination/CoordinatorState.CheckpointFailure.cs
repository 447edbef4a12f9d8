using ActorFace.Actors.Protocol;

namespace ActorFace.Actors.Coordination;

/// <summary>
/// A checkpoint that cannot be written (disk full, permission; a rank's files or the manifest). Nothing of the
/// previous checkpoint is touched (ranks write into temporaries and rename, the manifest is written last, pruning
/// only follows a new manifest), so it stays the one to resume. checkpoint_failure = stop (default) ends the job
/// saying so; continue trains on without the checkpoint (a later one may succeed once space is freed).
/// </summary>
public sealed partial class CoordinatorState
{
    private readonly HashSet<int> _checkpointFailures = [];
    private string? _checkpointFailure;

    private bool ContinueWithoutCheckpoints => _settings.CheckpointFailure == "continue";

    public IReadOnlyList<CoordinatorCommand> CheckpointFailed(CheckpointFailed f)
    {
        if (Current != Phase.Running || f.Generation != Generation || f.Step != _leaseStep || _leaseAction == LeaseAction.Halt
            || !_checkpointFailures.Add(f.Rank))
            return [];
        _checkpointFailure ??= $"rank {f.Rank}: {f.Reason}";
        if (!ContinueWithoutCheckpoints)
            return EndOnCheckpointFailure(f.Step, _checkpointFailure);
        return _acks.Count + _checkpointFailures.Count < Ranks.Count ? [] : SkipCheckpoint(f.Step);
    }

    /// <summary>The coordinator could not write the manifest of <paramref name="step"/> (the ranks' files are complete
    /// but never resumed without it). Called by the actor; commands planned after the manifest are dropped when this
    /// ends the job.</summary>
    public IReadOnlyList<CoordinatorCommand> ManifestWriteFailed(long step, string reason)
    {
        if (Stopping)
            return EndStopped(null, $"the checkpoint of step {step} could not be written (manifest: {reason}); ");
        if (!ContinueWithoutCheckpoints)
            return EndOnCheckpointFailure(step, $"manifest: {reason}");
        return [new Log($"checkpoint of step {step} skipped: its manifest could not be written ({reason}); training continues without it " +
                        $"(checkpoint_failure = continue); {PreviousCheckpoint()}", Monitoring.ClusterEventKind.Failed)];
    }

    /// <summary>Every rank answered and at least one failed (checkpoint_failure = continue): no manifest; the next lease.</summary>
    private List<CoordinatorCommand> SkipCheckpoint(long step)
    {
        var reason = _checkpointFailure;
        _acks.Clear();
        _checkpointFailures.Clear();
        _checkpointFailure = null;
        if (Stopping)
            return EndStopped(null, $"the checkpoint of step {step} could not be written ({reason}); ");
        var commands = new List<CoordinatorCommand>
        {
            new Log($"checkpoint of step {step} skipped: it could not be written ({reason}); training continues without it " +
                    $"(checkpoint_failure = continue); {PreviousCheckpoint()}", Monitoring.ClusterEventKind.Failed),
        };
        if (_leaseAction == LeaseAction.Checkpoint)
        {
            (_leaseStep, _leaseAction) = NextLease(step);
            commands.AddRange(ToGeneration(new RunUntil(Generation, _leaseStep, _leaseAction)));
        }
        return commands; // Finish: the ranks report RankFinished themselves
    }

    private List<CoordinatorCommand> EndOnCheckpointFailure(long step, string reason)
    {
        Current = Phase.Ended;
        return [new CancelRegroupTimer(), new EndJob(false,
            $"the checkpoint of step {step} could not be written ({reason}); {PreviousCheckpoint()}. " +
            "Free space or fix permissions, then continue with --resume (or set checkpoint_failure = continue to train on without checkpoints)",
            LastCompleteStep)];
    }

    private string PreviousCheckpoint() => _resume is { } r
        ? $"the previous checkpoint, step {r.Manifest.Step} ({CheckpointFile(r.Manifest.Step)}), is intact and loadable"
        : "there is no earlier checkpoint";
}
