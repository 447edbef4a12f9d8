using System.Net;
using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Logging;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;
using Akka.Event;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Workers;

/// <summary>
/// One rank of one generation (spec §5.3 loop), on its own thread (pinned dispatcher) because collective calls
/// block in lock-step with the other ranks. Every decision (lease, credits, checkpoint, stop, NaN/inf policy) is
/// <see cref="RankState"/>'s; this actor sets the rank up (collective, shard, trainer, feed) and executes the commands
/// the state returns (GpuWorker.Commands.cs). Any exception stops it; its node reports the failure and the coordinator
/// restarts the generation from the last manifest.
/// </summary>
public sealed partial class GpuWorker : ReceiveActor, IWithUnboundedStash
{
    public const string Dispatcher = "actorface-worker-dispatcher";

    private readonly RankLaunch _launch;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CheckpointStore _store;
    private readonly RankState _state;
    private IRankTrainer? _trainer;
    private IClassShard? _classShard;
    private IActorRef _shard = ActorRefs.Nobody;
    private IActorRef _feed = ActorRefs.Nobody;
    private RankContext? _context;
    private TrainingLog? _trainingLog;
    private SpeedLogger? _speed;
    private List<string>? _oldRankDirectories;

    public IStash Stash { get; set; } = null!;

    public GpuWorker(RankLaunch launch)
    {
        _launch = launch;
        var s = launch.Settings;
        _store = new CheckpointStore(s.OutputDirectory);
        var isRank0 = launch.Rank == 0;
        _state = new RankState(launch.Rank, launch.Generation, s.DataPrefetch, s.MaxNonFiniteSteps,
            new RankRole(isRank0, s.SaveBackbone, isRank0 && launch.Services.Verification is not null, s.Verbose));
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
        var plan = g.Plan;
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
        _trainer = ready.Shard.CreateTrainer();
        _classShard = ready.Shard.Shard;
        if (_oldRankDirectories is { } old)
            _trainer.LoadReplica(Path.Combine(old[_launch.Rank % old.Count], "replica"), _state.Done);
        _speed = new SpeedLogger(_launch.Settings.Frequent, _launch.Settings.BatchSize, _launch.WorldSize, _state.Done, _context!.Plan.TotalStep);
        _feed = Context.ActorOf(_launch.Services.Data.FeedProps(_context), "data-feed");
        Become(Running);
        Execute(_state.Started());
    }

    private void Running()
    {
        Receive<FeedBatch>(OnBatch);
        Receive<FeedFailed>(f => throw new InvalidOperationException($"data feed of rank {_launch.Rank} failed: {f.Reason}"));
        Receive<RunUntil>(OnLease);
        Receive<ShardSaved>(m => Execute(_state.ShardSaved(m.Step)));
        Receive<ShardSaveFailed>(m => Execute(_state.ShardSaveFailed(m.Step, m.Reason)));
        Receive<ShardFailed>(f => throw new InvalidOperationException(f.Reason));
    }

    private void OnLease(RunUntil lease) => Execute(_state.Lease(lease, _launch.Stop.Step));

    private void PublishMetrics(WorkerState state, long step, RankStepResult? result = null, TimeSpan waited = default)
    {
        if (!MetricsPublisher.IsEnabled(Context.System)) return;
        var t = result?.Timings;
        var breakdown = t is null ? StepTimeBreakdown.Zero : new StepTimeBreakdown(waited.TotalMilliseconds, t.Forward.TotalMilliseconds,
            t.PartialFC.TotalMilliseconds, t.Backward.TotalMilliseconds, t.AllReduce.TotalMilliseconds, t.Optimizer.TotalMilliseconds);
        MetricsPublisher.Publish(Context.System, new WorkerMetrics(_launch.Slot.NodeId, _launch.Rank, _launch.WorldSize,
            _launch.Generation.Generation, state, step, _speed?.LastSamplesPerSecond ?? 0, _speed?.LastLossAverage ?? double.NaN,
            result?.NextLearningRate ?? double.NaN, result?.GradNorm ?? double.NaN, breakdown,
            Environment.WorkingSet, 0, MetricClock.NowMs(), _state.NonFiniteSkipped, _speed?.LastHoursLeft ?? double.NaN, result?.GradScale ?? double.NaN));
        if (_classShard?.Usage() is { } u)
            MetricsPublisher.Publish(Context.System, new ShardMetrics(_launch.Slot.NodeId, _launch.Rank, checked((int)u.ClassStart),
                checked((int)u.NumLocal), checked((int)u.SampledClasses), u.Bytes, MetricClock.NowMs()));
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
