using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Training;

namespace ActorFace.Actors.Coordination;

/// <summary>
/// The TrainingCoordinator's decisions, free of actors and I/O so that they can be tested directly: admission,
/// ranks and generations, leases between checkpoints, checkpoint acks, aborts and regrouping after failures.
/// Every input returns the commands to execute, in order.
/// </summary>
public sealed partial class CoordinatorState
{
    public enum Phase { Waiting, Running, Aborting, Ended }

    private sealed record Node(string NodeId, string[] Endpoints, long DatasetCount, string NcclUnavailable = "");

    private readonly TrainingSettings _settings;
    private readonly List<Node> _nodes = [];   // registration order = rank order
    private readonly HashSet<int> _acks = [];
    private readonly HashSet<int> _finished = [];
    private readonly HashSet<string> _abortPending = [];
    private readonly string _fingerprint;
    private readonly (CheckpointManifest Manifest, string Path)? _latestOnDisk;
    private (CheckpointManifest Manifest, string Path)? _resume;
    private bool _successor;
    private long _leaseStep;
    private LeaseAction _leaseAction;
    private bool _regroupTimerRunning;
    private bool _started;
    private bool _scalingUp;

    /// <param name="latestOnDisk">The newest complete checkpoint in the output folder (resumed only when
    /// `resume` is set, or when this coordinator takes over a running job).</param>
    /// <param name="fingerprint">Digest of the training settings; nodes with other settings are refused.</param>
    public CoordinatorState(TrainingSettings settings, (CheckpointManifest Manifest, string Path)? latestOnDisk, string fingerprint)
    {
        _settings = settings;
        _latestOnDisk = latestOnDisk;
        _resume = settings.Resume ? latestOnDisk : null;
        _fingerprint = fingerprint;
    }

    public Phase Current { get; private set; } = Phase.Waiting;
    public int Generation { get; private set; }
    public int Restarts { get; private set; }
    public IReadOnlyList<RankSlot> Ranks { get; private set; } = [];
    public StepPlan? Plan { get; private set; }
    public long StartStep { get; private set; }
    public long LastCompleteStep => _resume?.Manifest.Step ?? 0;
    public int RegisteredSlots => _nodes.Sum(n => n.Endpoints.Length);
    public IReadOnlyList<string> Nodes => _nodes.Select(n => n.NodeId).ToList();
    public long EndStepOfPlan => Plan is null ? 0 : EndStep(Plan);

    /// <summary>Worker members the cluster had when this coordinator started. A successor (the singleton moved)
    /// waits for them to register, up to <see cref="GraceOver"/>, so that it does not restart the job on whichever
    /// node registers first and leave the others as stand-bys.</summary>
    public int ExpectedNodes { get; set; }
    private bool _graceOver;

    public IReadOnlyList<CoordinatorCommand> GraceOver()
    {
        _graceOver = true;
        return Current == Phase.Waiting && _successor ? TryStart().ToList() : [];
    }

    public IReadOnlyList<CoordinatorCommand> Register(RegisterNode r)
    {
        if (Current == Phase.Ended)
            return [new SendToNode(r.NodeId, new NodeRejected(r.NodeId, "the job has already ended"))];
        if (_nodes.Any(n => n.NodeId == r.NodeId))
            return [new SendToNode(r.NodeId, new NodeAccepted(r.NodeId, Current == Phase.Running && !InGeneration(r.NodeId)))];
        if (r.SettingsFingerprint != _fingerprint)
            return [new SendToNode(r.NodeId, new NodeRejected(r.NodeId,
                "its training settings differ from the coordinator's: start every node with the same config and --set values"))];
        if (r.LastGeneration > 0 && Generation == 0)
        {
            // A previous coordinator ran this job and died: continue it from its last complete checkpoint.
            _successor = true;
            _resume = _latestOnDisk;
        }
        Generation = Math.Max(Generation, r.LastGeneration);
        var first = _nodes.FirstOrDefault();
        if (first is not null && first.DatasetCount != r.DatasetCount)
            return [new SendToNode(r.NodeId, new NodeRejected(r.NodeId,
                $"its dataset has {r.DatasetCount} images but {first.NodeId}'s has {first.DatasetCount}: every node must read the same data"))];
        _nodes.Add(new Node(r.NodeId, r.Endpoints, r.DatasetCount, r.NcclUnavailable));
        var commands = new List<CoordinatorCommand>
        {
            new Log($"node {r.NodeId} joined with {r.Endpoints.Length} rank slot(s); {RegisteredSlots} registered, {_settings.EffectiveMinWorkers} needed", ClusterEventKind.Joined),
        };
        var standby = Current is Phase.Running or Phase.Aborting;
        commands.Add(new SendToNode(r.NodeId, new NodeAccepted(r.NodeId, standby)));
        if (Current == Phase.Waiting)
            commands.AddRange(TryStart());
        return commands;
    }

    /// <summary>A node left the cluster or its failure detector marked it unreachable. Either way the job does not wait
    /// for it: a running generation that includes it is aborted without it, an abort stops waiting for its confirmation.
    /// A node that was only paused registers again when it comes back (nodes re-register every 2 s) and joins as a
    /// stand-by.</summary>
    public IReadOnlyList<CoordinatorCommand> NodeLost(string nodeId, bool unreachable = false)
    {
        if (_nodes.RemoveAll(n => n.NodeId == nodeId) == 0 || Current == Phase.Ended)
            return [];
        var commands = new List<CoordinatorCommand>
        {
            new Log(unreachable ? $"node {nodeId} is unreachable" : $"node {nodeId} left the cluster", ClusterEventKind.Left),
        };
        if (Current == Phase.Running && Ranks.Any(r => r.NodeId == nodeId))
            commands.AddRange(Abort(unreachable ? $"node {nodeId} is unreachable" : $"node {nodeId} was lost", exclude: nodeId));
        else if (Current == Phase.Aborting && _abortPending.Remove(nodeId) && _abortPending.Count == 0)
            commands.AddRange(AfterAbort());
        return commands;
    }

    public IReadOnlyList<CoordinatorCommand> RankFailed(RankFailed f)
    {
        if (Current != Phase.Running || f.Generation != Generation)
            return [];
        return Abort($"rank {f.Rank} failed: {f.Reason}", exclude: null).ToList();
    }

    /// <summary>Nodes that have not confirmed the abort in time are stuck (a hung actor, a half-dead process): down
    /// them and regroup without them.</summary>
    public IReadOnlyList<CoordinatorCommand> AbortTimedOut(int generation)
    {
        if (Current != Phase.Aborting || generation != Generation || _abortPending.Count == 0)
            return [];
        var commands = new List<CoordinatorCommand>();
        foreach (var nodeId in _abortPending.Order().ToList())
        {
            commands.Add(new Log($"node {nodeId} did not confirm the abort of generation {generation} within {2 * _settings.Cluster.AbortTimeout.TotalSeconds:0} s: downing it", ClusterEventKind.Failed));
            commands.Add(new DownNode(nodeId));
            _nodes.RemoveAll(n => n.NodeId == nodeId);
        }
        _abortPending.Clear();
        commands.AddRange(AfterAbort());
        return commands;
    }

    public IReadOnlyList<CoordinatorCommand> GenerationAborted(GenerationAborted a)
    {
        if (Current != Phase.Aborting || a.Generation != Generation || !_abortPending.Remove(a.NodeId) || _abortPending.Count > 0)
            return [];
        return AfterAbort().ToList();
    }

    public IReadOnlyList<CoordinatorCommand> CheckpointSaved(CheckpointSaved c)
    {
        if (Current != Phase.Running || c.Generation != Generation || c.Step != _leaseStep || _leaseAction == LeaseAction.Halt)
            return [];
        _acks.Add(c.Rank);
        if (_acks.Count + _checkpointFailures.Count < Ranks.Count)
            return [];
        if (_checkpointFailures.Count > 0)
            return SkipCheckpoint(c.Step);
        _acks.Clear();
        var plan = Plan!;
        var manifest = new CheckpointManifest
        {
            Step = c.Step,
            Epoch = plan.PositionAfter(c.Step).Epoch,
            Generation = Generation,
            WorldSize = Ranks.Count,
            BatchSize = _settings.BatchSize,
            NumClasses = _settings.NumClasses,
            EmbeddingSize = _settings.EmbeddingSize,
            Network = _settings.Network,
            CreatedUtc = DateTime.UtcNow,
        };
        var commands = new List<CoordinatorCommand> { new WriteManifest(manifest) };
        if (Stopping && _leaseAction == LeaseAction.Checkpoint)
            commands.AddRange(EndStopped(c.Step));
        else if (_leaseAction == LeaseAction.Checkpoint && _settings.Cluster.ScaleUp && CanGrow())
        {
            var joining = _nodes.Where(n => !InGeneration(n.NodeId)).Select(n => n.NodeId);
            commands.AddRange(Regroup($"generation {Generation} ends at checkpoint step {c.Step} to admit stand-by node(s) {string.Join(", ", joining)} (scale up)",
                "scale up", ClusterEventKind.Info, exclude: null));
        }
        else if (_leaseAction == LeaseAction.Checkpoint)
        {
            (_leaseStep, _leaseAction) = NextLease(c.Step);
            commands.AddRange(ToGeneration(new RunUntil(Generation, _leaseStep, _leaseAction)));
        }
        return commands;
    }

    /// <summary>The actor calls this once the manifest is on disk, so that a later restart resumes from it.</summary>
    public void ManifestWritten(CheckpointManifest manifest, string path) => _resume = (manifest, path);

    public IReadOnlyList<CoordinatorCommand> RankFinished(RankFinished f)
    {
        if (Current != Phase.Running || f.Generation != Generation || f.Step != _leaseStep)
            return [];
        _finished.Add(f.Rank);
        if (_finished.Count < Ranks.Count)
            return [];
        Current = Phase.Ended;
        var message = _leaseAction == LeaseAction.Halt
            ? $"halted after global step {f.Step} (max_steps); resume continues from step {LastCompleteStep}"
            : $"training finished at global step {f.Step}";
        return [new CancelRegroupTimer(), new EndJob(true, message, f.Step)];
    }

    public IReadOnlyList<CoordinatorCommand> RegroupTimedOut()
    {
        _regroupTimerRunning = false;
        if (Current != Phase.Waiting)
            return [];
        Current = Phase.Ended;
        return [new EndJob(false,
            $"only {RegisteredSlots} of the {_settings.EffectiveMinWorkers} workers needed (cluster.min_workers) registered within {_settings.Cluster.RegroupTimeout.TotalSeconds:0}s (cluster.regroup_timeout)",
            LastCompleteStep)];
    }

    /// <summary>A fatal problem (for example a manifest that cannot be written): end the job.</summary>
    public IReadOnlyList<CoordinatorCommand> Fail(string reason)
    {
        if (Current == Phase.Ended) return [];
        Current = Phase.Ended;
        return [new CancelRegroupTimer(), new EndJob(false, reason, LastCompleteStep)];
    }

    private bool InGeneration(string nodeId) => Ranks.Any(r => r.NodeId == nodeId);

    /// <summary>Stand-by slots exist and the world may grow (cluster.max_workers).</summary>
    private bool CanGrow() =>
        RegisteredSlots > Ranks.Count && (_settings.Cluster.MaxWorkers == 0 || Ranks.Count < _settings.Cluster.MaxWorkers);

    private IEnumerable<CoordinatorCommand> TryStart()
    {
        var needed = _started || _successor ? _settings.EffectiveMinWorkers : _settings.EffectiveStartWorkers;
        if (RegisteredSlots < needed)
        {
            if (_regroupTimerRunning) yield break;
            _regroupTimerRunning = true;
            yield return new StartRegroupTimer();
            yield break;
        }
        if (_successor && !_started && !_graceOver && _nodes.Count < ExpectedNodes)
            yield break; // the other survivors are re-registering with the moved coordinator
        if (_regroupTimerRunning)
        {
            _regroupTimerRunning = false;
            yield return new CancelRegroupTimer();
        }

        var max = _settings.Cluster.MaxWorkers > 0 ? _settings.Cluster.MaxWorkers : int.MaxValue;
        var ranks = new List<RankSlot>();
        foreach (var node in _nodes)
            for (var slot = 0; slot < node.Endpoints.Length && ranks.Count < max; slot++)
                ranks.Add(new RankSlot(ranks.Count, node.NodeId, slot, node.Endpoints[slot]));

        var plan = new StepPlan(_nodes[0].DatasetCount, ranks.Count, _settings.BatchSize, _settings.NumEpoch,
            _settings.NumImage, _settings.WarmupEpoch);
        if (plan.StepsPerEpoch < 1)
        {
            Current = Phase.Ended;
            yield return new EndJob(false, $"the dataset has {plan.DatasetCount} images: too few for {plan.WorldSize} rank(s) x batch_size {plan.BatchSize} (an epoch would have no step)", LastCompleteStep);
            yield break;
        }

        if (!_started && !_successor)
        {
            if (_settings.Resume && _resume is null)
            {
                Current = Phase.Ended;
                yield return new EndJob(false, "resume = true but the output folder has no complete checkpoint (checkpoints/step_*.manifest.json)", 0);
                yield break;
            }
            if (!_settings.Resume)
                yield return new ClearCheckpoints();
        }
        _started = true;
        Generation++;
        Ranks = ranks;
        Plan = plan;
        StartStep = _resume is { } r
            ? (r.Manifest.TotalBatchSize == plan.TotalBatchSize ? r.Manifest.Step : plan.EquivalentStep(r.Manifest.Step, r.Manifest.TotalBatchSize))
            : 0;
        _acks.Clear();
        _checkpointFailures.Clear();
        _checkpointFailure = null;
        _finished.Clear();
        (_leaseStep, _leaseAction) = NextLease(StartStep);
        Current = Phase.Running;
        var from = _resume is { } m ? $"from checkpoint step {m.Manifest.Step} (world {m.Manifest.WorldSize}) as step {StartStep}" : "from scratch";
        yield return new Log($"generation {Generation}: {ranks.Count} rank(s) on {ranks.Select(x => x.NodeId).Distinct().Count()} node(s), starting {from}; " +
                             $"{plan.StepsPerEpoch} steps/epoch, {EndStep(plan)} steps in all", Generation > 1 && !_scalingUp ? ClusterEventKind.Recovered : ClusterEventKind.Info);
        _scalingUp = false;
        var hosts = ranks.Select(x => x.NodeId).Distinct().ToHashSet();
        var missing = _nodes.Where(n => hosts.Contains(n.NodeId) && n.NcclUnavailable.Length > 0).Select(n => (n.NodeId, n.NcclUnavailable)).ToList();
        var kind = CollectiveSelection.Select(_settings.Collective, _settings.Device, hosts.Count == 1, missing, out var refused);
        if (refused is not null)
        {
            Current = Phase.Ended;
            yield return new EndJob(false, refused, LastCompleteStep);
            yield break;
        }
        var start = new StartGeneration(Generation, [.. ranks], kind == CollectiveKind.Local, plan, _resume?.Path ?? "",
            StartStep, _leaseStep, _leaseAction, kind == CollectiveKind.Nccl);
        foreach (var command in ToGeneration(start))
            yield return command;
    }

    private long EndStep(StepPlan plan) =>
        _settings.MaxSteps > 0 ? Math.Min(_settings.MaxSteps, plan.TotalIterations) : plan.TotalIterations;

    /// <summary>The lease that follows <paramref name="done"/> completed steps: up to the next checkpoint or the end.</summary>
    public (long Step, LeaseAction Action) NextLease(long done)
    {
        var plan = Plan!;
        var end = EndStep(plan);
        var interval = _settings.CheckpointEvery > 0 ? _settings.CheckpointEvery : plan.StepsPerEpoch;
        var next = (done / interval + 1) * interval;
        if (next < end)
            return (next, LeaseAction.Checkpoint);
        var halt = _settings.MaxSteps > 0 && _settings.MaxSteps < plan.TotalIterations;
        return (Math.Max(end, done), halt ? LeaseAction.Halt : LeaseAction.Finish);
    }

    /// <summary>Rank 0's NCCL token: relayed to every node of the generation it was made for, dropped otherwise.</summary>
    public IReadOnlyList<CoordinatorCommand> NcclIdOffered(NcclUniqueId id) =>
        id.Generation == Generation && Current == Phase.Running ? ToGeneration(id).ToList() : [];

    private IEnumerable<CoordinatorCommand> ToGeneration(object message) =>
        Ranks.Select(r => r.NodeId).Distinct().Select(node => new SendToNode(node, message));

    private IEnumerable<CoordinatorCommand> Abort(string reason, string? exclude)
    {
        Restarts++;
        if (Restarts > _settings.Cluster.MaxRestarts)
        {
            Current = Phase.Ended;
            var commands = new List<CoordinatorCommand> { new Log($"generation {Generation} aborted: {reason}", ClusterEventKind.RecoveryStarted) };
            commands.AddRange(ToGeneration(new AbortGeneration(Generation, reason)).Where(c => ((SendToNode)c).NodeId != exclude));
            commands.Add(new EndJob(false, $"giving up after {Restarts - 1} restart(s) (cluster.max_restarts): {reason}", LastCompleteStep));
            return commands;
        }
        return Regroup($"generation {Generation} aborted: {reason}", reason, ClusterEventKind.RecoveryStarted, exclude);
    }

    /// <summary>Ends the generation (after a failure, or planned to scale up): every node still in it stops its
    /// ranks and confirms; then the next generation forms from the registered nodes and the last manifest.</summary>
    private List<CoordinatorCommand> Regroup(string message, string reason, ClusterEventKind kind, string? exclude)
    {
        var commands = new List<CoordinatorCommand> { new Log(message, kind) };
        _scalingUp = kind != ClusterEventKind.RecoveryStarted;
        Current = Phase.Aborting;
        _abortPending.Clear();
        foreach (var node in Ranks.Select(r => r.NodeId).Distinct().Where(n => n != exclude && _nodes.Any(x => x.NodeId == n)))
            _abortPending.Add(node);
        commands.AddRange(_abortPending.Select(n => new SendToNode(n, new AbortGeneration(Generation, reason))));
        if (_abortPending.Count == 0)
            commands.AddRange(AfterAbort());
        else
            commands.Add(new StartAbortTimer(Generation));
        return commands;
    }

    private IEnumerable<CoordinatorCommand> AfterAbort()
    {
        if (Stopping)
            return EndStopped(null, "the generation was aborted while stopping; ");
        Current = Phase.Waiting;
        Ranks = [];
        return TryStart().ToList();
    }
}
