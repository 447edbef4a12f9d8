using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorFace.Actors.Monitoring;

/// <summary>The latest record of one source plus how old it is by the monitor's clock.</summary>
public sealed record Observed<T>(T Latest, double AgeSeconds, bool Stale);

public sealed record SeriesSet(
    IReadOnlyList<SeriesPoint> Throughput,
    IReadOnlyList<SeriesPoint> Loss,
    IReadOnlyList<SeriesPoint> LearningRate,
    IReadOnlyDictionary<string, IReadOnlyList<SeriesPoint>> Accuracy);

/// <summary>Everything a view needs, immutable and detached from <see cref="MonitorState"/>.</summary>
public sealed record MonitorSnapshot(
    DateTime TakenAtUtc,
    long Generation,
    long GlobalStep,
    double ClusterSamplesPerSecond,
    long MetricsReceived,
    IReadOnlyList<MemberInfo> Members,
    IReadOnlyList<Observed<WorkerMetrics>> Workers,
    IReadOnlyList<Observed<LoaderMetrics>> Loaders,
    IReadOnlyList<Observed<ShardMetrics>> Shards,
    CoordinatorMetrics? Coordinator,
    IReadOnlyList<Observed<ActorSystemStats>> Systems,
    IReadOnlyDictionary<string, VerificationMetrics> Verification,
    SeriesSet Series,
    IReadOnlyList<ClusterEvent> RecentEvents /* newest first */);

/// <summary>The JSON form served by /status and printed by `actorface monitor --once --json`.</summary>
public static class MonitorSnapshotJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        // NaN marks "unknown" (ETA, loss before the first step); JSON has no NaN, so it travels as a string.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize(MonitorSnapshot snapshot, bool indented = false) =>
        JsonSerializer.Serialize(snapshot, indented ? new JsonSerializerOptions(Options) { WriteIndented = true } : Options);

    public static MonitorSnapshot Deserialize(string json) =>
        JsonSerializer.Deserialize<MonitorSnapshot>(json, Options)
        ?? throw new JsonException("MonitorSnapshot JSON was 'null'");
}
