using System.Net;
using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Coordination;
using ActorFace.Actors.Logging;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using ActorFace.Model.Collectives;
using Akka.Actor;
using Akka.Event;

namespace ActorFace.Actors.Workers;

/// <summary>
/// One rank of one generation (spec §5.3 loop), on its own thread (pinned dispatcher) because collective calls
/// block in lock-step with the other ranks. It runs the steps of its lease as batches arrive from its data feed
/// (credit-based), then checkpoints, finishes or halts as the coordinator's lease says. Any exception stops it;
/// its node reports the failure and the coordinator restarts the generation from the last manifest.
/// </summary>
public sealed partial class GpuWorker : ReceiveActor, IWithUnboundedStash
{
    public const string Dispatcher = "actorface-worker-dispatcher";
    private const int Prefetch = 4;

    private readonly RankLaunch _launch;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CheckpointStore _store;
    private IRankTrainer? _trainer;
    private IClassShard? _classShard;
    private IActorRef _shard = ActorRefs.Nobody;
    private IActorRef _feed = ActorRefs.Nobody;
    private RankContext? _context;
    private TrainingLog? _trainingLog;
    private SpeedLogger? _speed;
    private long _done;
    private long _leaseStep;
    private LeaseAction _leaseAction;
    private string? _pendingCheckpointDir;
    private string? _checkpointError;
    private List<string>? _oldRankDirectories;
    private long _granted;
    private long? _lastStepEnd;
    private readonly NonFiniteLossGuard _nonFinite;

    public IStash Stash { get; set; } = null!;

    public GpuWorker(RankLaunch launch)
    {
        _launch = launch;
        _store = new CheckpointStore(launch.Settings.OutputDirectory);
        _done = launch.Generation.StartStep;
        _leaseStep = launch.Generation.LeaseStep;
        _leaseAction = launch.Generation.LeaseAction;
        _nonFinite = new NonFiniteLossGuard(launch.Settings.MaxNonFiniteSteps);
        Initializing();
    }

    public static Props Props(RankLaunch launch) =>
        Akka.Actor.Props.Create(() => new GpuWorker(launch)).WithDispatcher(Dispatcher);

    private bool IsRank0 => _launch.Rank == 0;

    protected override void PreStart() => Self.Tell(Initialize.Instance);

    private sealed class Initialize { public static readonly Initialize Instance = new(); }

    private void Initializing()
    {
        Receive<Initialize>(_ => Init());
        Receive<ShardReady>(OnShardReady);
        Receive<ShardFailed>(f => throw new InvalidOperationException(f.Reason));
        Receive<RunUntil>(OnLease);
        ReceiveAny(_ => Stash.Stash());
    }

    private void Init()
    {
        var s = _launch.Settings;
        var g = _launch.Generation;
        if (g.Nccl)
        {
            AwaitNcclId();
            return;
        }
        Init(_launch.LocalCollective ?? _launch.Services.Collectives.ConnectTcp(
            _launch.Rank, g.Ranks.Select(r => IPEndPoint.Parse(r.Endpoint)).ToList(), s.Cluster.CollectiveTimeout,
            $"actorface-generation-{g.Generation}"));
    }

    private sealed record NcclIdTimeout(int Generation);

    private INcclBackend Nccl => _launch.Services.Collectives.Nccl
        ?? throw new InvalidOperationException("the coordinator chose NCCL but this process has no NCCL backend");

    /// <summary>
    /// NCCL rendezvous (a new communicator per generation): rank 0 makes the unique id and sends it to the coordinator,
    /// which relays it with the generation number to every node; each rank then joins. An id that does not come within
    /// `cluster.collective_timeout` fails the rank, as a TCP ring that does not connect does.
    /// </summary>
    private void AwaitNcclId()
    {
        var g = _launch.Generation;
        _launch.Services.Collectives.CheckNccl(_launch.Rank, g.Ranks.Select(r => IPEndPoint.Parse(r.Endpoint)).ToList());
        if (IsRank0) _launch.Coordinator.Tell(new NcclUniqueId(g.Generation, Nccl.CreateUniqueId()));
        var timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(_launch.Settings.Cluster.CollectiveTimeout, Self,
            new NcclIdTimeout(g.Generation), Self);
        Become(() =>
        {
            Receive<NcclUniqueId>(id => id.Generation == g.Generation, id =>
            {
                timeout.Cancel();
                Become(Initializing);
                Init(Nccl.Create(_launch.Rank, g.WorldSize, id.Id, _launch.Settings.Cluster.CollectiveTimeout));
            });
            Receive<NcclUniqueId>(_ => { }); // another generation's token: never join it
            Receive<NcclIdTimeout>(_ => throw new TimeoutException(
                $"rank {_launch.Rank} got no NCCL unique id for generation {g.Generation} within cluster.collective_timeout = {_launch.Settings.Cluster.CollectiveTimeout.TotalSeconds:0.#} s"));
            ReceiveAny(_ => Stash.Stash());
        });
        // The id can arrive before this rank's Initialize (its node forwards it as soon as rank 0 is quicker).
        Stash.UnstashAll();
    }

    private void Init(ICollective collective)
    {
        var s = _launch.Settings;
        var g = _launch.Generation;
        _launch.Collective.Set(collective);
        var plan = new StepPlan(g.DatasetCount, g.WorldSize, s.BatchSize, s.NumEpoch, s.NumImage, s.WarmupEpoch);
        _context = new RankContext(s, g.Generation, _launch.Rank, g.WorldSize, _launch.Slot.Slot, collective, plan, g.StartStep);
        _shard = Context.ActorOf(ClassShardActor.Props(_launch.Services.Trainers, _context), "class-shard");
        if (IsRank0)
        {
            _trainingLog = new TrainingLog(Path.Combine(s.OutputDirectory, "training.log"), _launch.Console);
            _trainingLog.Write("rank_id: 0");
            _trainingLog.Write($"generation {g.Generation}: world size {g.WorldSize}, " +
                               (g.ResumeManifest.Length > 0 ? $"resuming after step {g.StartStep} from {g.ResumeManifest}" : "starting from scratch"));
            foreach (var (key, value) in SettingsDump.Entries(s, plan))
                _trainingLog.WriteSetting(key, value);
        }
        _oldRankDirectories = null;
        if (g.ResumeManifest.Length > 0)
        {
            var manifest = CheckpointStore.Read(g.ResumeManifest);
            _oldRankDirectories = Enumerable.Range(0, manifest.WorldSize)
                .Select(r => CheckpointStore.RankDirectory(g.ResumeManifest, manifest, r)).ToList();
        }
        _shard.Tell(new CreateShard(_oldRankDirectories?.Select(d => Path.Combine(d, "shard")).ToList()));
    }

    /// <summary>Shard in hand: build the trainer (all ranks together) and restore the replica when resuming.</summary>
    private void OnShardReady(ShardReady ready)
    {
        _trainer = _launch.Services.Trainers.CreateTrainer(_context!, ready.Shard);
        _classShard = ready.Shard;
        if (_oldRankDirectories is { } old)
            _trainer.LoadReplica(Path.Combine(old[_launch.Rank % old.Count], "replica"), _done);
        StartRunning();
    }

    private void StartRunning()
    {
        _speed = new SpeedLogger(_launch.Settings.Frequent, _launch.Settings.BatchSize, _launch.WorldSize, _done, _context!.Plan.TotalStep);
        _feed = Context.ActorOf(_launch.Services.Data.FeedProps(_context), "data-feed");
        Become(Running);
        Stash.UnstashAll();
        ContinueLease();
    }

    /// <summary>Runs the steps left in the lease, or ends it when there are none.</summary>
    private void ContinueLease()
    {
        if (_done < _leaseStep)
        {
            _launch.Watch.Progress(_done);
            TopUpCredits();
        }
        else
            EndOfLease();
    }

    private void Running()
    {
        Receive<FeedBatch>(OnBatch);
        Receive<FeedFailed>(f => throw new InvalidOperationException($"data feed of rank {_launch.Rank} failed: {f.Reason}"));
        Receive<RunUntil>(OnLease);
        Receive<ShardSaved>(OnShardSaved);
        Receive<ShardSaveFailed>(OnShardSaveFailed);
        Receive<ShardFailed>(f => throw new InvalidOperationException(f.Reason));
    }

    private void OnLease(RunUntil lease)
    {
        if (lease.Generation != _launch.Generation.Generation || lease.Step < _leaseStep || _launch.Stop.Step <= _done)
            return; // (a rank that reached its stop target takes no further lease)
        var resume = _done == _leaseStep && _pendingCheckpointDir is null;
        (_leaseStep, _leaseAction) = (lease.Step, lease.Action);
        if (resume && !_feed.Equals(ActorRefs.Nobody))
        {
            Stash.UnstashAll();
            ContinueLease();
        }
    }

    /// <summary>Keeps <see cref="Prefetch"/> batches requested or waiting, never more (the feed never floods us).</summary>
    private void TopUpCredits()
    {
        var buffered = _granted - (_done - _launch.Generation.StartStep); // requested or stashed, not yet stepped
        var want = Prefetch - buffered;
        if (want <= 0) return;
        _granted += want;
        _feed.Tell(new FeedCredits((int)want));
    }

    private void OnBatch(FeedBatch batch)
    {
        if (ApplyStopTarget() && _done == _leaseStep)
        {
            Stash.Stash();
            EndOfLease(); // the stop target is the step just done
            return;
        }
        if (_done >= _leaseStep)
        {
            Stash.Stash(); // prefetched beyond the lease: keep it for the next lease
            return;
        }
        using (batch.Images)
        using (batch.Labels)
        {
            var step = _done + 1;
            if (batch.Step != step)
                throw new InvalidOperationException($"rank {_launch.Rank} expected the batch of step {step} but got step {batch.Step}");
            var waited = _lastStepEnd is { } end ? System.Diagnostics.Stopwatch.GetElapsedTime(end) : TimeSpan.Zero;
            var result = _trainer!.Step(step, batch.Images, batch.Labels);
            _lastStepEnd = System.Diagnostics.Stopwatch.GetTimestamp();
            OnNonFiniteLoss(step, result.Loss);
            _done = step;
            _launch.Watch.Progress(step);
            var line = _speed!.Step(step, result.Loss, batch.Epoch, result.NextLearningRate, result.GradScale);
            if (line is not null)
                PublishMetrics(WorkerState.Training, step, result, waited);
            if (IsRank0 && line is not null)
            {
                _trainingLog!.Write(line);
                _launch.Coordinator.Tell(new TrainingProgress(_launch.Generation.Generation, step, batch.Epoch,
                    _speed.LastLossAverage, result.NextLearningRate, _speed.LastSamplesPerSecond, _context!.Plan.TotalStep));
            }
            if (IsRank0 && _launch.Services.Verification is { } v && step % _launch.Settings.Verbose == 0 && step < _leaseStep)
            {
                Verify(v, step);
                _launch.Watch.Progress(step);
            }
        }
        ApplyStopTarget();
        if (_done < _leaseStep)
            TopUpCredits();
        else
            EndOfLease();
    }

    /// <summary>A graceful stop shortens the lease to the node's stop target (then checkpoint); true when it did.</summary>
    private bool ApplyStopTarget()
    {
        var target = _launch.Stop.Step;
        if (target >= _leaseStep) return false;
        if (target < _done)
            throw new InvalidOperationException($"rank {_launch.Rank} already completed step {_done}, past step {target} where the stop was planned");
        (_leaseStep, _leaseAction) = (target, LeaseAction.Checkpoint);
        return true;
    }

    /// <summary>The trainer skipped the update of a step with a NaN/inf loss; count it, say so, roll back when it persists.</summary>
    private void OnNonFiniteLoss(long step, double loss)
    {
        var verdict = _nonFinite.Observe(loss);
        if (verdict == NonFiniteVerdict.Trained) return;
        var what = $"loss is {loss} at step {step}: step skipped (no weight update; {_nonFinite.Consecutive} in a row, " +
                   $"{_nonFinite.Skipped} in this generation; max_nonfinite_steps = {_nonFinite.MaxConsecutive})";
        _log.Warning("rank {0}: {1}", _launch.Rank, what);
        if (IsRank0) _trainingLog!.Write("warning: " + what);
        if (verdict == NonFiniteVerdict.RollBack)
            throw new NonFiniteLossException($"the loss was NaN or infinite for {_nonFinite.Consecutive} consecutive steps (up to step {step}; " +
                                             "max_nonfinite_steps): rolling back to the last complete checkpoint");
    }

    private void PublishMetrics(WorkerState state, long step, RankStepResult? result = null, TimeSpan waited = default)
    {
        if (!MetricsPublisher.IsEnabled(Context.System)) return;
        var t = result?.Timings;
        var breakdown = t is null ? StepTimeBreakdown.Zero : new StepTimeBreakdown(waited.TotalMilliseconds, t.Forward.TotalMilliseconds,
            t.PartialFC.TotalMilliseconds, t.Backward.TotalMilliseconds, t.AllReduce.TotalMilliseconds, t.Optimizer.TotalMilliseconds);
        MetricsPublisher.Publish(Context.System, new WorkerMetrics(_launch.Slot.NodeId, _launch.Rank, _launch.WorldSize,
            _launch.Generation.Generation, state, step, _speed?.LastSamplesPerSecond ?? 0, _speed?.LastLossAverage ?? double.NaN,
            result?.NextLearningRate ?? double.NaN, result?.GradNorm ?? double.NaN, breakdown,
            Environment.WorkingSet, 0, MetricClock.NowMs(), _nonFinite.Skipped, _speed?.LastHoursLeft ?? double.NaN, result?.GradScale ?? double.NaN));
        if (_classShard?.Usage() is { } u)
            MetricsPublisher.Publish(Context.System, new ShardMetrics(_launch.Slot.NodeId, _launch.Rank, checked((int)u.ClassStart),
                checked((int)u.NumLocal), checked((int)u.SampledClasses), u.Bytes, MetricClock.NowMs()));
    }

    private void EndOfLease()
    {
        _lastStepEnd = null; // waiting for the next lease is not waiting for data
        _launch.Watch.Idle();
        if (_leaseAction == LeaseAction.Halt)
        {
            SaveBackbone();
            _launch.Coordinator.Tell(new RankFinished(_launch.Generation.Generation, _launch.Rank, _done));
            return;
        }
        // Checkpoint (also before finishing): replica here, shard in the ClassShardActor, in parallel.
        PublishMetrics(WorkerState.Checkpointing, _done);
        var final = _store.RankDirectory(_done, _launch.Rank);
        var temp = final + $".partial-{Guid.NewGuid():N}";
        _checkpointError = null;
        try
        {
            Directory.CreateDirectory(temp);
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            CheckpointWriteFailed(temp, e.Message);
            return;
        }
        _pendingCheckpointDir = temp;
        _shard.Tell(new SaveShard(_done, Path.Combine(temp, "shard")));
        try
        {
            _trainer!.SaveReplica(Path.Combine(temp, "replica"));
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            _checkpointError = $"replica of rank {_launch.Rank}: {e.Message}"; // reported once the shard actor is done with the folder
        }
    }

    private void Verify(IVerificationHook hook, long step)
    {
        var (lines, results) = hook.Evaluate(_trainer!.Backbone, step);
        foreach (var line in lines)
            _trainingLog?.Write(line);
        foreach (var r in results)
            MetricsPublisher.Publish(Context.System, new VerificationMetrics(_launch.Slot.NodeId, r.Target, step, r.Accuracy, r.Best, MetricClock.NowMs()));
    }

    /// <summary>Tags every failure with the rank so that the node's supervisor can report which one failed.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e) when (e is not RankFailureException)
        {
            throw new RankFailureException(_launch.Rank, _launch.Generation.Generation, e);
        }
    }

    protected override void PostStop()
    {
        _trainer?.Dispose();
        _launch.Collective.Dispose();
        _trainingLog?.Dispose();
    }
}

public sealed class RankFailureException(int rank, int generation, Exception inner)
    : Exception($"rank {rank} (generation {generation}): {inner.GetType().Name}: {inner.Message}", inner)
{
    public int Rank { get; } = rank;
    public int Generation { get; } = generation;
}
