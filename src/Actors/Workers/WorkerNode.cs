using System.Net;
using System.Net.Sockets;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;
using Akka.Event;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Workers;

/// <summary>
/// One per training process (cluster role `worker`): offers the process's rank slots to the coordinator, creates a
/// fresh <see cref="GpuWorker"/> per slot for every generation, aborts their collectives when the coordinator aborts
/// a generation, and reports a worker that throws (it is stopped, and recreated by the next generation, which
/// restarts from the last complete checkpoint).
/// </summary>
public sealed class WorkerNode : ReceiveActor, IWithTimers
{
    private readonly TrainingSettings _settings;
    private readonly RankServices _services;
    private readonly IActorRef _coordinatorProxy;
    private readonly string _nodeId;
    private readonly string[] _endpoints;
    private readonly string _ncclUnavailable;
    private readonly TextWriter? _console;
    private readonly TaskCompletionSource<TrainingEnded> _outcome;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, (int Rank, CollectiveSlot Collective, RankWatch Watch)> _ranks = [];
    private readonly NodePolicy _policy;
    private IActorRef? _coordinator;
    private bool _standby;
    private StopTarget _stopTarget = new();
    private long _startStep;

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerNode(TrainingSettings settings, RankServices services, IActorRef coordinatorProxy, string nodeId,
        TextWriter? console, TaskCompletionSource<TrainingEnded> outcome)
    {
        _settings = settings;
        _services = services;
        _coordinatorProxy = coordinatorProxy;
        _nodeId = nodeId;
        _console = console;
        _outcome = outcome;
        _policy = new NodePolicy(settings.Cluster.StepTimeout);
        _endpoints = Enumerable.Range(0, settings.Cluster.WorkersPerNode).Select(_ => FreeEndpoint(settings.Cluster.Hostname)).ToArray();
        _ncclUnavailable = NcclUnavailable(settings, services.Collectives, _endpoints);

        Receive<RegisterTick>(_ => Register());
        Receive<NodeAccepted>(a =>
        {
            // Registration keeps going every 2 s: a coordinator that dropped this node (unreachable for a while, or a
            // moved singleton) learns of it again, and it joins as a stand-by.
            WatchCoordinator(Sender);
            if (a.Standby && !_standby) _console?.WriteLine("[node] accepted as a stand-by; the next generation will include this node");
            _standby = a.Standby;
        });
        Receive<NodeRejected>(r =>
        {
            Timers.Cancel(RegisterTick.Instance);
            _outcome.TrySetResult(new TrainingEnded(false, $"the coordinator refused node {r.NodeId}: {r.Reason}", 0));
        });
        Receive<StartGeneration>(OnStart);
        Receive<RunUntil>(m => { foreach (var worker in _ranks.Keys) worker.Forward(m); });
        Receive<NcclUniqueId>(m =>
        {
            if (m.Generation == _policy.Generation) foreach (var worker in _ranks.Keys) worker.Forward(m);
        });
        Receive<AbortGeneration>(m => Abort(m.Generation, m.Reason));
        Receive<RequestStop>(r => (_coordinator ?? _coordinatorProxy).Tell(new StopRequested(_nodeId, r.Reason)));
        Receive<ReportPosition>(p =>
        {
            if (p.Generation != _policy.Generation) return;
            var furthest = _ranks.Values.Select(r => r.Watch.LastStep).DefaultIfEmpty(0).Max();
            Sender.Tell(new NodePosition(_policy.Generation, _nodeId, Math.Max(furthest, _startStep)));
        });
        Receive<StopAt>(s => { if (s.Generation == _policy.Generation) _stopTarget.Set(s.Step); });
        Receive<TrainingEnded>(m =>
        {
            _policy.End();
            Timers.Cancel(RegisterTick.Instance);
            Abort(_policy.Generation, "training ended");
            _outcome.TrySetResult(m);
        });
        Receive<Terminated>(OnTerminated);
        Receive<WatchdogTick>(_ => CheckProgress());
        Receive<AbortDeadline>(d => AbandonHungRanks(d.Generation));
    }

    public static Props Props(TrainingSettings settings, RankServices services, IActorRef coordinatorProxy, string nodeId,
        TextWriter? console, TaskCompletionSource<TrainingEnded> outcome) =>
        Akka.Actor.Props.Create(() => new WorkerNode(settings, services, coordinatorProxy, nodeId, console, outcome));

    private sealed class RegisterTick { public static readonly RegisterTick Instance = new(); }

    private sealed class WatchdogTick { public static readonly WatchdogTick Instance = new(); }

    private sealed record AbortDeadline(int Generation);

    protected override void PreStart()
    {
        Register();
        Timers.StartPeriodicTimer(RegisterTick.Instance, RegisterTick.Instance, TimeSpan.FromSeconds(2));
        if (_policy.WatchdogInterval is { } every)
            Timers.StartPeriodicTimer(WatchdogTick.Instance, WatchdogTick.Instance, every);
    }

    private void Register() =>
        _coordinatorProxy.Tell(new RegisterNode(Self, _nodeId, _endpoints, _services.Data.DatasetCount,
            SettingsDump.Fingerprint(_settings), _policy.Generation, _ncclUnavailable));

    /// <summary>Empty when this process can run NCCL, else why not (the coordinator's `collective` rule reads it).
    /// Probed only when NCCL could be chosen, so CPU runs never touch the CUDA libraries.</summary>
    private static string NcclUnavailable(TrainingSettings settings, ICollectiveFactory collectives, string[] endpoints)
    {
        if (settings.Collective is "tcp" or "local") return $"collective = {settings.Collective}";
        if (settings.Device != "cuda") return $"device = {settings.Device}";
        if (collectives.Nccl is not { } nccl) return "this process has no NCCL backend";
        try
        {
            // A node that listens on the network may only use NCCL (never encrypted) with the insecure opt-in: without
            // it `auto` falls back to the protected TCP ring instead of failing every rank.
            collectives.CheckNccl(-1, endpoints.Select(IPEndPoint.Parse).ToList());
        }
        catch (ArgumentException e) { return e.Message; }
        return nccl.IsAvailable(out var reason) ? "" : reason;
    }

    private void WatchCoordinator(IActorRef coordinator)
    {
        if (Equals(coordinator, _coordinator)) return;
        if (_coordinator is not null) Context.Unwatch(_coordinator);
        _coordinator = coordinator;
        Context.Watch(coordinator);
    }

    /// <summary>Every rank this node hosts in the new world gets a fresh GpuWorker (clean state, fresh collective).</summary>
    private void OnStart(StartGeneration g)
    {
        if (_policy.Ended) return;
        WatchCoordinator(Sender);
        if (_ranks.Count > 0)
            Abort(_policy.Generation, $"generation {g.Generation} started");
        _policy.Start(g.Generation);
        _stopTarget = new StopTarget();
        _startStep = g.StartStep;
        var mine = g.Ranks.Where(r => r.NodeId == _nodeId).OrderBy(r => r.Rank).ToList();
        ICollective[]? local = g.LocalCollective ? _services.Collectives.CreateLocal(g.WorldSize, _settings.Cluster.CollectiveTimeout) : null;
        foreach (var slot in mine)
        {
            var collective = new CollectiveSlot();
            var watch = new RankWatch();
            var launch = new RankLaunch(_settings, _services, g, slot, Sender, collective, watch, local?[slot.Rank], slot.Rank == 0 ? _console : null)
            {
                Stop = _stopTarget,
            };
            var worker = Context.ActorOf(GpuWorker.Props(launch), $"rank-{slot.Rank}-g{g.Generation}");
            Context.Watch(worker);
            _ranks[worker] = (slot.Rank, collective, watch);
        }
        _console?.WriteLine($"[node] generation {g.Generation}: hosting rank(s) {string.Join(",", mine.Select(r => r.Rank))} of {g.WorldSize}");
    }

    private void Abort(int generation, string reason)
    {
        if (!_policy.Abort(generation)) return;
        foreach (var (worker, (_, collective, _)) in _ranks)
        {
            collective.Abort(reason);
            Context.Stop(worker);
        }
        if (_ranks.Count == 0)
            ReportAborted();
        else
            Timers.StartSingleTimer(nameof(AbortDeadline), new AbortDeadline(generation), _settings.Cluster.AbortTimeout);
    }

    /// <summary>The step watchdog (<see cref="NodePolicy.CheckProgress"/>): a hung rank is reported like a failure so
    /// the generation restarts, and its peers here stop waiting.</summary>
    private void CheckProgress()
    {
        if (_policy.CheckProgress(_ranks.Values.Select(r => (r.Rank, r.Watch)), NodePolicy.Now()) is not { } hung) return;
        _log.Error("{0}", hung.Reason);
        _console?.WriteLine($"[node] {hung.Reason}");
        (_coordinator ?? _coordinatorProxy).Tell(new RankFailed(_policy.Generation, hung.Rank, hung.Reason));
        foreach (var (_, (_, collective, _)) in _ranks)
            collective.Abort(hung.Reason);
    }

    /// <summary>Ranks that did not stop within `cluster.abort_timeout` are stuck where no abort reaches them: leave
    /// their threads behind and confirm the abort, so that the next generation can start on this node.</summary>
    private void AbandonHungRanks(int generation)
    {
        if (generation != _policy.Generation || _ranks.Count == 0) return;
        var hung = string.Join(",", _ranks.Values.Select(r => r.Rank));
        _log.Warning("rank(s) {0} of generation {1} did not stop within {2}; abandoning them", hung, generation, _settings.Cluster.AbortTimeout);
        _console?.WriteLine($"[node] rank(s) {hung} did not stop within {_settings.Cluster.AbortTimeout.TotalSeconds:0} s (cluster.abort_timeout): abandoned");
        _ranks.Clear();
        ReportAborted();
    }

    private void OnTerminated(Terminated t)
    {
        if (Equals(t.ActorRef, _coordinator))
        {
            if (_policy.Ended) return; // the job is over; the singleton is only moving because the nodes are leaving
            // The singleton moved (its node died): our ranks' world is gone; offer ourselves to the successor.
            _coordinator = null;
            Abort(_policy.Generation, "the coordinator was lost");
            Register();
            Timers.StartPeriodicTimer(RegisterTick.Instance, RegisterTick.Instance, TimeSpan.FromSeconds(2));
            return;
        }
        if (!_ranks.Remove(t.ActorRef, out _)) return;
        if (_ranks.Count == 0 && _policy.Aborting)
            ReportAborted();
    }

    private void ReportAborted()
    {
        _policy.AbortReported();
        (_coordinator ?? _coordinatorProxy).Tell(new GenerationAborted(_policy.Generation, _nodeId));
    }

    /// <summary>A worker that throws is stopped and its failure reported; peers in this process stop waiting at once.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        if (_policy.RankFailed(e) is { } failure)
        {
            if (failure.WithStackTrace)
                _log.Error(e.InnerException, "rank {0} failed in generation {1}", failure.Rank, failure.Generation);
            else
                _log.Warning("rank {0} failed in generation {1}: {2}", failure.Rank, failure.Generation, failure.Reason);
            (_coordinator ?? _coordinatorProxy).Tell(new RankFailed(failure.Generation, failure.Rank, failure.Reason));
            foreach (var (_, (_, collective, _)) in _ranks)
                collective.Abort($"rank {failure.Rank} failed: {failure.Reason}");
        }
        return Directive.Stop;
    }, loggingEnabled: false);

    private static string FreeEndpoint(string host)
    {
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        var listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new IPEndPoint(address, port).ToString();
    }
}
