using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Protocol;

namespace ActorFace.Actors.Coordination;

/// <summary>
/// Graceful stop (SIGTERM / SIGINT on any node): the job ends with a fresh checkpoint when it can get one within
/// `stop_grace_period`, and with the last complete one otherwise; either way it ends successfully, and the message
/// says which checkpoint `--resume` continues from.
/// </summary>
public sealed partial class CoordinatorState
{
    /// <summary>Steps beyond the furthest reported rank at which the ranks stop: a rank may complete one more step
    /// than the one it last reported (lock step) before the new target reaches it.</summary>
    public const int StopMargin = 2;

    private string? _stopReason;
    private readonly Dictionary<string, long> _positions = [];

    public bool Stopping => _stopReason is not null;

    public IReadOnlyList<CoordinatorCommand> StopRequested(StopRequested request)
    {
        if (Current == Phase.Ended || Stopping)
            return [];
        _stopReason = request.Reason;
        if (Current != Phase.Running)
            return EndStopped(null);
        _positions.Clear();
        var commands = new List<CoordinatorCommand>
        {
            new Log($"stop requested ({request.Reason} on {request.NodeId}): the ranks stop at a common step and write a checkpoint " +
                    $"(stop_grace_period = {_settings.StopGracePeriod.TotalSeconds:0.#} s)"),
            new StartStopTimer(),
        };
        commands.AddRange(ToGeneration(new ReportPosition(Generation)));
        return commands;
    }

    public IReadOnlyList<CoordinatorCommand> NodePositionReported(NodePosition position)
    {
        if (!Stopping || Current != Phase.Running || position.Generation != Generation || !InGeneration(position.NodeId))
            return [];
        _positions[position.NodeId] = position.Step;
        if (!Ranks.Select(r => r.NodeId).Distinct().All(_positions.ContainsKey))
            return [];
        var target = _positions.Values.Max() + StopMargin;
        if (target >= _leaseStep)
            // The lease ends first: a checkpoint ends the job after its manifest (CheckpointSaved); Finish and Halt end it anyway.
            return [new Log($"the ranks stop at the end of their current lease (step {_leaseStep})")];
        (_leaseStep, _leaseAction) = (target, LeaseAction.Checkpoint);
        return [new Log($"the ranks stop after step {target} and write its checkpoint"), .. ToGeneration(new StopAt(Generation, target))];
    }

    /// <summary>The grace period is over and no checkpoint completed: end with the last complete one.</summary>
    public IReadOnlyList<CoordinatorCommand> StopGraceOver() =>
        Stopping && Current != Phase.Ended ? EndStopped(null, $"no new checkpoint completed within stop_grace_period = {_settings.StopGracePeriod.TotalSeconds:0.#} s; ") : [];

    /// <summary>Ends a stopping job: after the checkpoint of <paramref name="checkpointStep"/>, or (null) with the last
    /// complete checkpoint there is.</summary>
    private List<CoordinatorCommand> EndStopped(long? checkpointStep, string why = "")
    {
        Current = Phase.Ended;
        var resume = checkpointStep is { } s
            ? $"checkpoint of step {s} written ({CheckpointFile(s)})"
            : _resume is { } r ? $"{why}the last complete checkpoint is step {r.Manifest.Step} ({CheckpointFile(r.Manifest.Step)})"
            : $"{why}there is no checkpoint yet: the next run starts from scratch";
        var how = checkpointStep is not null || _resume is not null ? "; continue with the same command and --resume" : "";
        return [new CancelRegroupTimer(), new EndJob(true, $"stopped on {_stopReason}: {resume}{how}", checkpointStep ?? LastCompleteStep)];
    }

    private static string CheckpointFile(long step) => $"checkpoints/{CheckpointStore.StepName(step)}.manifest.json";
}
