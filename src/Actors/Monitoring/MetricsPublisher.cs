using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// The one call an actor needs to report a metric: in a clustered system it goes to the DistributedPubSub topic
/// <see cref="MonitoringConfig.Topic"/> (seen by monitors on any node); otherwise to the local EventStream, so a
/// single-process run with a local MonitorActor works the same way. Fire-and-forget, never blocks. With
/// `actorface.monitoring.enabled = off` in the system's config every call is a no-op (the overhead baseline).
/// </summary>
public static class MetricsPublisher
{
    // The mediator lookup goes through the extension registry; cache it per system because workers publish often.
    private static readonly ConditionalWeakTable<ActorSystem, Route> Routes = new();

    public static void Publish(ActorSystem system, IMonitorMetric metric)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(metric);
        var route = Routes.GetValue(system, Resolve);
        if (!route.Enabled) return;
        if (route.Mediator is { } mediator)
            mediator.Tell(new Publish(MonitoringConfig.Topic, metric));
        else
            system.EventStream.Publish(metric);
    }

    /// <summary>Accepts any object so that callers holding an `object` get a clear error instead of silence.</summary>
    public static void Publish(ActorSystem system, object metric)
    {
        if (metric is not IMonitorMetric m)
            throw new ArgumentException(
                $"MetricsPublisher.Publish: {metric?.GetType().FullName ?? "null"} is not an IMonitorMetric record", nameof(metric));
        Publish(system, m);
    }

    /// <summary>False when the system's config says `actorface.monitoring.enabled = off`.</summary>
    public static bool IsEnabled(ActorSystem system) => Routes.GetValue(system, Resolve).Enabled;

    public static bool IsClustered(ActorSystem system) =>
        system is ExtendedActorSystem e && e.Provider is ClusterActorRefProvider;

    /// <summary>How records of this node name it: the cluster self address, or the system name when not clustered.</summary>
    public static string NodeName(ActorSystem system) =>
        IsClustered(system) ? Cluster.Get(system).SelfAddress.ToString() : system.Name;

    private static Route Resolve(ActorSystem system)
    {
        var enabled = Settings.MonitoringSettings.From(system.Settings.Config).Enabled;
        return new(enabled, enabled && IsClustered(system) ? DistributedPubSub.Get(system).Mediator : null);
    }

    private sealed record Route(bool Enabled, IActorRef? Mediator);
}
