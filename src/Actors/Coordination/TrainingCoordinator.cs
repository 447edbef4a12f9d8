using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;
using Akka.Event;
using AkkaClusterEvent = Akka.Cluster.ClusterEvent;

namespace ActorFace.Actors.Coordination;

/// <summary>
/// The cluster singleton that runs the job: admits worker nodes, forms generations (ranks + collective rendezvous),
/// hands out leases between checkpoints, writes the manifest once every rank has saved a step, and restarts the
/// generation from the last manifest when a rank fails or a node is lost. Decisions live in <see cref="CoordinatorState"/>;
/// this actor only executes them (messages, timers, files).
/// </summary>
public sealed class TrainingCoordinator : ReceiveActor, IWithTimers
{
    public const string SingletonName = "coordinator";

    private readonly TrainingSettings _settings;
    private readonly CheckpointStore _store;
    private readonly CoordinatorState _state;
    private readonly Dictionary<string, IActorRef> _nodes = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EventStream _events = Context.System.EventStream;
    private readonly CoordinatorMonitoring _monitoring =
        new(Context.System, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString());

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly TextWriter? _console;

    public TrainingCoordinator(TrainingSettings settings, TextWriter? console = null)
    {
        _console = console;
        _settings = settings;
        _store = new CheckpointStore(settings.OutputDirectory);
        _state = new CoordinatorState(settings, _store.Latest(), SettingsDump.Fingerprint(settings))
        {
            ExpectedNodes = Akka.Cluster.Cluster.Get(Context.System).State.Members
                .Count(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(Hosting.ClusterHocon.WorkerRole)),
        };

        Receive<RegisterNode>(r =>
        {
            if (!_nodes.ContainsKey(r.NodeId))
                Context.Watch(r.Node);
            _nodes[r.NodeId] = r.Node;
            Execute(_state.Register(r));
        });
        Receive<RankFailed>(f => Execute(_state.RankFailed(f)));
        Receive<NcclUniqueId>(id => Execute(_state.NcclIdOffered(id)));
        Receive<GenerationAborted>(a => Execute(_state.GenerationAborted(a)));
        Receive<CheckpointSaved>(c => Execute(_state.CheckpointSaved(c)));
        Receive<CheckpointFailed>(c => Execute(_state.CheckpointFailed(c)));
        Receive<RankFinished>(f => Execute(_state.RankFinished(f)));
        Receive<TrainingProgress>(p =>
        {
            _events.Publish(p);
            _monitoring.Progress(p, _state);
        });
        Receive<PublishMetrics>(_ => _monitoring.Publish(_state));
        Receive<RegroupTimeout>(_ => Execute(_state.RegroupTimedOut()));
        Receive<StopRequested>(s => Execute(_state.StopRequested(s)));
        Receive<NodePosition>(p => Execute(_state.NodePositionReported(p)));
        Receive<StopGrace>(_ => Execute(_state.StopGraceOver()));
        Receive<SuccessorGrace>(_ => Execute(_state.GraceOver()));
        Receive<AbortDeadline>(d => Execute(_state.AbortTimedOut(d.Generation)));
        Receive<AkkaClusterEvent.UnreachableMember>(u =>
        {
            foreach (var id in _nodes.Where(kv => kv.Value.Path.Address.Equals(u.Member.Address)).Select(kv => kv.Key).ToList())
                Execute(_state.NodeLost(id, unreachable: true));
        });
        Receive<Terminated>(t =>
        {
            var lost = _nodes.FirstOrDefault(kv => Equals(kv.Value, t.ActorRef)).Key;
            if (lost is null) return;
            _nodes.Remove(lost);
            Execute(_state.NodeLost(lost));
        });
    }

    public static Props Props(TrainingSettings settings, TextWriter? console = null) =>
        Akka.Actor.Props.Create(() => new TrainingCoordinator(settings, console));

    private void Say(string message) => _console?.WriteLine($"[coordinator] {message}");

    private sealed class RegroupTimeout { public static readonly RegroupTimeout Instance = new(); }

    private sealed class PublishMetrics { public static readonly PublishMetrics Instance = new(); }

    private sealed class SuccessorGrace { public static readonly SuccessorGrace Instance = new(); }

    private sealed class StopGrace { public static readonly StopGrace Instance = new(); }

    private sealed record AbortDeadline(int Generation);

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    protected override void PreStart()
    {
        // Acting on UNREACHABLE (not on removal, which waits for the resolver and the lease) starts recovery seconds sooner.
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, AkkaClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(AkkaClusterEvent.UnreachableMember));
        Timers.StartPeriodicTimer(PublishMetrics.Instance, PublishMetrics.Instance, TimeSpan.FromSeconds(2));
        // Nodes re-register every 2 s; a moved coordinator waits this long at most for all of them.
        Timers.StartSingleTimer(SuccessorGrace.Instance, SuccessorGrace.Instance, TimeSpan.FromSeconds(5));
    }

    public CoordinatorState State => _state;

    private void Execute(IReadOnlyList<CoordinatorCommand> commands)
    {
        foreach (var command in commands)
        {
            try
            {
                Run(command);
            }
            catch (Exception e) when (command is WriteManifest write && e is IOException or UnauthorizedAccessException)
            {
                var follow = _state.ManifestWriteFailed(write.Manifest.Step, e.Message);
                Execute(follow);
                if (follow.Any(c => c is EndJob))
                    return; // the job ends here: what was planned after the manifest is dropped
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Execute(_state.Fail($"cannot write checkpoints in {_store.Root}: {e.Message}"));
                return;
            }
        }
        if (commands.Count > 0)
            _monitoring.Publish(_state);
    }

    private void Run(CoordinatorCommand command)
    {
            switch (command)
            {
                case SendToNode send:
                    if (_nodes.TryGetValue(send.NodeId, out var node))
                        node.Tell(send.Message);
                    break;
                case WriteManifest write:
                    var path = _store.Write(write.Manifest);
                    _state.ManifestWritten(write.Manifest, path);
                    try
                    {
                        _store.Prune(_settings.KeepCheckpoints);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        _log.Warning("could not remove old checkpoints in {0}: {1}", _store.Root, e.Message); // the new one is complete
                    }
                    Say($"checkpoint of step {write.Manifest.Step} complete: {path}");
                    _monitoring.Checkpoint(write.Manifest.Step, path);
                    _monitoring.Event(ClusterEventKind.CheckpointManifested, _state.Generation, write.Manifest.Step, $"checkpoint of step {write.Manifest.Step} complete");
                    break;
                case ClearCheckpoints:
                    if (Directory.Exists(_store.Root))
                    {
                        Say($"fresh start (resume = false): removing the earlier checkpoints in {_store.Root}");
                        Directory.Delete(_store.Root, recursive: true);
                    }
                    break;
                case StartRegroupTimer:
                    Timers.StartSingleTimer(RegroupTimeout.Instance, RegroupTimeout.Instance, _settings.Cluster.RegroupTimeout);
                    break;
                case CancelRegroupTimer:
                    Timers.Cancel(RegroupTimeout.Instance);
                    break;
                case StartStopTimer:
                    Timers.StartSingleTimer(StopGrace.Instance, StopGrace.Instance, _settings.StopGracePeriod);
                    break;
                case StartAbortTimer abort:
                    Timers.StartSingleTimer(nameof(AbortDeadline), new AbortDeadline(abort.Generation), 2 * _settings.Cluster.AbortTimeout);
                    break;
                case DownNode down:
                    if (_nodes.Remove(down.NodeId, out var stuck))
                    {
                        Context.Unwatch(stuck);
                        var cluster = Akka.Cluster.Cluster.Get(Context.System);
                        if (!stuck.Path.Address.Equals(cluster.SelfAddress) && stuck.Path.Address.HasGlobalScope)
                            cluster.Down(stuck.Path.Address);
                        else
                            _log.Error("node {0} (this process) is stuck; it cannot down itself", down.NodeId);
                    }
                    break;
                case Log log:
                    Say(log.Message);
                    _monitoring.Event(log.Kind, _state.Generation, _state.LastCompleteStep, log.Message);
                    break;
                case EndJob end:
                    var ended = new TrainingEnded(end.Success, end.Message, end.Step);
                    if (end.Success) Say(end.Message); else _log.Error(end.Message);
                    _monitoring.Event(end.Success ? ClusterEventKind.Info : ClusterEventKind.Failed, _state.Generation, end.Step, end.Message);
                    foreach (var n in _nodes.Values)
                        n.Tell(ended);
                    _events.Publish(ended);
                    break;
            }
    }
}
