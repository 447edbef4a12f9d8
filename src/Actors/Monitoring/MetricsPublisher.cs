using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// The one call an actor needs to report a metric: in a clustered system it goes to the DistributedPubSub topic
/// <see cref="MonitoringConfig.Topic"/> (seen by monitors on any node); otherwise to the local EventStream, so a
/// single-process run with a local MonitorActor works the same way. Fire-and-forget, never blocks.
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

    public static bool IsClustered(ActorSystem system) =>
        system is ExtendedActorSystem e && e.Provider is ClusterActorRefProvider;

    private static Route Resolve(ActorSystem system) =>
        new(IsClustered(system) ? DistributedPubSub.Get(system).Mediator : null);

    private sealed record Route(IActorRef? Mediator);
}
