using Akka.Actor;
using Akka.Event;

namespace ActorFace.Actors.Monitoring;

/// <summary>Register a local actor whose mailbox depth the collector samples.</summary>
public sealed record WatchMailbox(IActorRef Actor);

/// <summary>Ask for the collector's current counts (answered with <see cref="ActorSystemStats"/>).</summary>
public sealed record GetSystemStats
{
    public static readonly GetSystemStats Instance = new();
}

/// <summary>
/// One per node: counts dead letters and supervisor-logged actor failures (each restart or stop is logged as an
/// Error with the failing actor as source), samples mailbox depth of registered local actors, and publishes the
/// totals as <see cref="ActorSystemStats"/> every interval.
/// </summary>
public sealed class SystemStatsCollector : ReceiveActor, IWithTimers
{
    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private readonly string _node;
    private readonly TimeSpan _interval;
    private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _watched = new(StringComparer.Ordinal);
    private long _deadLetters;

    public SystemStatsCollector(string node, TimeSpan? interval)
    {
        _node = node;
        _interval = interval ?? Settings.MonitoringSettings.From(Context.System.Settings.Config).SystemStatsInterval;
        Receive<DeadLetter>(_ => _deadLetters++);
        Receive<Error>(e => e.Cause is not null, e => Count(e.LogSource));
        Receive<Error>(_ => { });
        Receive<WatchMailbox>(w =>
        {
            _watched[w.Actor.Path.ToString()] = w.Actor;
            Context.Watch(w.Actor);
        });
        Receive<Terminated>(t => _watched.Remove(t.ActorRef.Path.ToString()));
        Receive<GetSystemStats>(_ => Sender.Tell(Stats()));
        Receive<Tick>(_ => MetricsPublisher.Publish(Context.System, Stats()));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="node">How this node is shown (usually the cluster self address).</param>
    /// <param name="interval">How often it publishes; null = `actorface.monitoring.system_stats_interval` of the system's config.</param>
    public static Props Props(string node, TimeSpan? interval = null) =>
        Akka.Actor.Props.Create(() => new SystemStatsCollector(node, interval));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));
        Context.System.EventStream.Subscribe(Self, typeof(Error));
        Timers.StartPeriodicTimer("publish", Tick.Instance, _interval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Count(string source) => _failures[source] = _failures.GetValueOrDefault(source) + 1;

    private ActorSystemStats Stats()
    {
        var mailboxes = _watched
            .Select(kv => new ActorCount(kv.Key, kv.Value is ActorRefWithCell local ? local.Underlying.NumberOfMessages : -1))
            .OrderBy(c => c.Actor, StringComparer.Ordinal).ToArray();
        var failures = _failures.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new ActorCount(kv.Key, kv.Value)).ToArray();
        return new ActorSystemStats(_node, failures, mailboxes, _deadLetters, MetricClock.NowMs());
    }
}
