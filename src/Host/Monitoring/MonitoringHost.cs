using System.Net;
using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Monitoring;

public sealed record MonitoringHostOptions
{
    /// <summary>Serve /, /status, /metrics here (null: no HTTP endpoint, the default).</summary>
    public IPEndPoint? Http { get; init; }

    /// <summary>Write TensorBoard event files here (null: none).</summary>
    public string? TensorBoardDir { get; init; }

    /// <summary>Run output folder: `cluster.json` goes there (and to the temp registry) when the system is clustered.</summary>
    public string? OutputDir { get; init; }

    /// <summary>How often this node's SystemStatsCollector publishes (null: the system configuration's
    /// `actorface.monitoring.system_stats_interval`).</summary>
    public TimeSpan? StatsInterval { get; init; }
}

/// <summary>
/// What `actorface train` starts on its node in one call: a MonitorActor (with TensorBoard when asked), this node's
/// SystemStatsCollector, the optional HTTP endpoint, and the local run registration. Dispose on exit.
/// </summary>
public sealed class MonitoringHost : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly MonitorHttpServer? _http;
    private readonly LocalRunInfo? _registration;

    private MonitoringHost(ActorSystem system, IActorRef monitor, IActorRef stats, MonitorHttpServer? http, LocalRunInfo? registration)
    {
        _system = system;
        Monitor = monitor;
        Stats = stats;
        _http = http;
        _registration = registration;
    }

    public IActorRef Monitor { get; }

    /// <summary>Send it <see cref="WatchMailbox"/> for actors whose mailbox depth should be shown.</summary>
    public IActorRef Stats { get; }

    public string? HttpUrl => _http?.BaseUrl;

    public Task<MonitorSnapshot> SnapshotAsync(CancellationToken ct = default) =>
        Monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5), ct);

    public static MonitoringHost Start(ActorSystem system, MonitoringHostOptions options)
    {
        var clustered = MetricsPublisher.IsClustered(system);
        var node = clustered ? Cluster.Get(system).SelfAddress.ToString() : system.Name;
        var sinks = options.TensorBoardDir is null ? Array.Empty<IMetricSink>() : [new TensorBoardLogger(options.TensorBoardDir)];
        var monitor = system.ActorOf(MonitorActor.Props(sinks: sinks), "monitor");
        var stats = system.ActorOf(SystemStatsCollector.Props(node, options.StatsInterval), "system-stats");

        MonitorHttpServer? http = null;
        if (options.Http is { } endpoint)
            http = new MonitorHttpServer(endpoint, ct => monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5), ct)).Start();

        LocalRunInfo? registration = null;
        if (clustered)
        {
            var seeds = system.Settings.Config.GetStringList("akka.cluster.seed-nodes", []);
            registration = new LocalRunInfo(system.Name, seeds.Count > 0 ? seeds.ToArray() : [node], Environment.ProcessId,
                DateTime.UtcNow, options.OutputDir, http is null ? null : $"{http.Endpoint}");
            LocalRunRegistry.Write(registration);
        }
        return new MonitoringHost(system, monitor, stats, http, registration);
    }

    public async ValueTask DisposeAsync()
    {
        if (_registration is not null) LocalRunRegistry.Remove(_registration);
        if (_http is not null) await _http.DisposeAsync();
        if (!_system.WhenTerminated.IsCompleted)
        {
            _system.Stop(Stats);
            _system.Stop(Monitor);
        }
    }
}
