using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using AkkaClusterEvent = Akka.Cluster.ClusterEvent;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// Subscribes to the metrics topic (or the local EventStream when the system is not clustered), feeds a
/// <see cref="MonitorState"/> and answers <see cref="GetSnapshot"/> with a <see cref="MonitorSnapshot"/>.
/// In a cluster it also follows membership itself, so members show even before the coordinator reports.
/// </summary>
public sealed class MonitorActor : ReceiveActor
{
    private readonly MonitorState _state;
    private readonly IReadOnlyList<IMetricSink> _sinks;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly bool _clustered;

    public MonitorActor(TimeSpan? staleAfter, IReadOnlyList<IMetricSink>? sinks)
    {
        _state = new MonitorState(staleAfter ?? ReadStaleAfter(Context.System));
        _sinks = sinks ?? [];
        _clustered = MetricsPublisher.IsClustered(Context.System);

        Receive<IMonitorMetric>(OnMetric);
        Receive<GetSnapshot>(_ => Sender.Tell(_state.Snapshot(DateTime.UtcNow)));
        Receive<SubscribeAck>(_ => _log.Debug("monitor subscribed to topic {0}", MonitoringConfig.Topic));
        Receive<AkkaClusterEvent.MemberRemoved>(e => Member(e.Member, "Removed"));
        Receive<AkkaClusterEvent.MemberStatusChange>(e => Member(e.Member, e.Member.Status.ToString()));
        Receive<AkkaClusterEvent.UnreachableMember>(e => Member(e.Member, "Unreachable"));
        Receive<AkkaClusterEvent.ReachableMember>(e => Member(e.Member, e.Member.Status.ToString()));
        Receive<AkkaClusterEvent.IClusterDomainEvent>(_ => { });
    }

    public static Props Props(TimeSpan? staleAfter = null, IReadOnlyList<IMetricSink>? sinks = null) =>
        Akka.Actor.Props.Create(() => new MonitorActor(staleAfter, sinks));

    protected override void PreStart()
    {
        if (_clustered)
        {
            DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(MonitoringConfig.Topic, Self));
            Cluster.Get(Context.System).Subscribe(Self, AkkaClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(AkkaClusterEvent.IMemberEvent), typeof(AkkaClusterEvent.IReachabilityEvent));
        }
        else
        {
            Context.System.EventStream.Subscribe(Self, typeof(IMonitorMetric));
        }
    }

    protected override void PostStop()
    {
        if (_clustered) Cluster.Get(Context.System).Unsubscribe(Self);
        else Context.System.EventStream.Unsubscribe(Self);
    }

    private void OnMetric(IMonitorMetric metric)
    {
        _state.Apply(metric, DateTime.UtcNow);
        foreach (var sink in _sinks)
        {
            try { sink.Observe(metric); }
            catch (Exception ex) { _log.Warning(ex, "metric sink {0} failed on {1}", sink.GetType().Name, metric.GetType().Name); }
        }
    }

    private void Member(Member member, string status) =>
        _state.ApplyMember(member.Address.ToString(), status, member.Roles.OrderBy(r => r, StringComparer.Ordinal).ToArray(), DateTime.UtcNow);

    /// <summary>`actorface.monitoring.stale_after` of the system's configuration (the reference default without one).</summary>
    private static TimeSpan ReadStaleAfter(ActorSystem system) => Settings.MonitoringSettings.From(system.Settings.Config).StaleAfter;
}
