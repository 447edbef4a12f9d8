using Akka.Configuration;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// HOCON every ActorFace actor system includes (as a fallback) so monitoring records travel as MessagePack and
/// DistributedPubSub runs on every node, including nodes with the `monitor` role.
/// </summary>
public static class MonitoringConfig
{
    /// <summary>The DistributedPubSub topic all metric records are published to.</summary>
    public const string Topic = "actorface.metrics";

    /// <summary>Cluster role of a node that only watches (takes no part in training).</summary>
    public const string MonitorRole = "monitor";

    /// <summary>Off: MetricsPublisher.Publish does nothing (the job file's `actorface.monitoring.enabled`; this and the
    /// other `actorface.monitoring` keys are declared in Settings/actorface-reference.conf, see MonitoringSettings).</summary>
    public const string EnabledKey = "actorface.monitoring.enabled";

    public const string Hocon = """
        akka.actor {
          serializers {
            actorface-monitoring = "ActorFace.Actors.Monitoring.MonitoringSerializer, ActorFace.Actors"
          }
          serialization-bindings {
            "ActorFace.Actors.Monitoring.IMonitorMetric, ActorFace.Actors" = actorface-monitoring
          }
          serialization-identifiers {
            "ActorFace.Actors.Monitoring.MonitoringSerializer, ActorFace.Actors" = 471
          }
        }
        # pub-sub must run on every node (an empty role), otherwise a monitor-only node never sees the topic
        akka.cluster.pub-sub.role = ""
        """;

    public static Config Default => ConfigurationFactory.ParseString(Hocon);
}
