using Akka.Configuration;

namespace ActorFace.Actors.Settings;

/// <summary>
/// `actorface.monitoring` (declared in actorface-reference.conf). Read by the actors from their actor system's
/// configuration: a training node's carries the job's `actorface` section; any other node gets the reference defaults.
/// </summary>
public sealed record MonitoringSettings
{
    /// <summary>Publish metric records at all (off: measure training without them).</summary>
    public required bool Enabled { get; init; }

    /// <summary>How often each node's SystemStatsCollector publishes ActorSystemStats.</summary>
    public required TimeSpan SystemStatsInterval { get; init; }

    /// <summary>A rank whose last record is older than this is shown as stale.</summary>
    public required TimeSpan StaleAfter { get; init; }

    public static MonitoringSettings Read(ISettingsReader r) => new()
    {
        Enabled = r.Get<bool>("monitoring.enabled"),
        SystemStatsInterval = r.Get<TimeSpan>("monitoring.system_stats_interval"),
        StaleAfter = r.Get<TimeSpan>("monitoring.stale_after"),
    };

    /// <summary>The monitoring settings of an actor system's configuration (the reference file's where it has none).</summary>
    public static MonitoringSettings From(Config config) => Read(ConfigSettingsReader.Over(config));
}
