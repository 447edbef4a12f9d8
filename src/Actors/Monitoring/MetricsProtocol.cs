using MessagePack;

namespace ActorFace.Actors.Monitoring;

// The monitoring protocol: small immutable records that any actor publishes with MetricsPublisher.Publish.
// Keys are an explicit wire contract (MonitoringSerializer): append new keys, never renumber.
// Times are Unix milliseconds from the sender's clock; the monitor judges staleness by its own receive time.

/// <summary>Marker for every record the monitor aggregates; bound to <see cref="MonitoringSerializer"/>.</summary>
public interface IMonitorMetric
{
    string Node { get; }
    long TimestampMs { get; }
}

public enum WorkerState
{
    Joining = 0,
    Training = 1,
    Recovering = 2,
    Checkpointing = 3,
    Stopped = 4,
}

/// <summary>Milliseconds spent in each phase of one training step (averaged over the reporting interval).</summary>
[MessagePackObject]
public sealed record StepTimeBreakdown(
    [property: Key(0)] double DataWaitMs,
    [property: Key(1)] double ForwardMs,
    [property: Key(2)] double PartialFcMs,
    [property: Key(3)] double BackwardMs,
    [property: Key(4)] double AllReduceMs,
    [property: Key(5)] double OptimizerMs)
{
    public static readonly StepTimeBreakdown Zero = new(0, 0, 0, 0, 0, 0);

    [IgnoreMember]
    public double TotalMs => DataWaitMs + ForwardMs + PartialFcMs + BackwardMs + AllReduceMs + OptimizerMs;
}

/// <summary>One rank's training progress; a GpuWorker publishes it every few steps.</summary>
[MessagePackObject]
public sealed record WorkerMetrics(
    [property: Key(0)] string Node,
    [property: Key(1)] int Rank,
    [property: Key(2)] int WorldSize,
    [property: Key(3)] long Generation,
    [property: Key(4)] WorkerState State,
    [property: Key(5)] long GlobalStep,
    [property: Key(6)] double SamplesPerSecond,
    [property: Key(7)] double Loss,
    [property: Key(8)] double LearningRate,
    [property: Key(9)] double GradNorm,
    [property: Key(10)] StepTimeBreakdown StepTime,
    [property: Key(11)] long RssBytes,
    [property: Key(12)] long GpuMemoryBytes,
    [property: Key(13)] long TimestampMs,
    [property: Key(14)] long SkippedSteps = 0,
    // arcface_torch's `time_for_end` (CallBackLogging's ETA in hours); NaN from senders that predate it.
    [property: Key(15)] double HoursLeft = double.NaN,
    [property: Key(16)] double GradScale = double.NaN) : IMonitorMetric;

/// <summary>
/// Credit-based DataLoaderActor state, published by the loader itself (every few seconds and at each epoch end) and
/// its answer to GetLoaderMetrics: ready batches waiting (QueueDepth) versus credits not yet served, batches
/// decoding (InFlight), decode rate (images per second of decode-thread busy time, all threads summed), skipped
/// corrupt records, and the time the consumer spent with credits out and nothing ready.
/// </summary>
[MessagePackObject]
public sealed record LoaderMetrics(
    [property: Key(0)] string Node,
    [property: Key(1)] int Rank,
    [property: Key(2)] int QueueDepth,
    [property: Key(3)] int Credits,
    [property: Key(4)] double DecodedImagesPerSecond,
    [property: Key(5)] long CorruptSkipped,
    [property: Key(6)] long TimestampMs,
    [property: Key(7)] int Epoch = 0,
    [property: Key(8)] int InFlight = 0,
    [property: Key(9)] long BatchesDelivered = 0,
    [property: Key(10)] long SamplesDecoded = 0,
    [property: Key(11)] double ConsumerWaitSeconds = 0) : IMonitorMetric;

/// <summary>ClassShardActor: the class range [ClassStart, ClassStart + NumLocal) it owns and what Partial FC samples.</summary>
[MessagePackObject]
public sealed record ShardMetrics(
    [property: Key(0)] string Node,
    [property: Key(1)] int Rank,
    [property: Key(2)] int ClassStart,
    [property: Key(3)] int NumLocal,
    [property: Key(4)] int SampledClassesPerStep,
    [property: Key(5)] long ShardBytes,
    [property: Key(6)] long TimestampMs) : IMonitorMetric;

/// <summary>Verification accuracy of one target (lfw, cfp_fp, agedb_30, ...) at a global step.</summary>
[MessagePackObject]
public sealed record VerificationMetrics(
    [property: Key(0)] string Node,
    [property: Key(1)] string Target,
    [property: Key(2)] long GlobalStep,
    [property: Key(3)] double Accuracy,
    [property: Key(4)] double BestAccuracy,
    [property: Key(5)] long TimestampMs) : IMonitorMetric;

[MessagePackObject]
public sealed record MemberInfo(
    [property: Key(0)] string Address,
    [property: Key(1)] string Status,
    [property: Key(2)] IReadOnlyList<string> Roles,
    [property: Key(3)] int Rank /* -1: no rank in the current generation */);

[MessagePackObject]
public sealed record RecoveryInfo(
    [property: Key(0)] long Generation,
    [property: Key(1)] string Cause,
    [property: Key(2)] double DurationSeconds,
    [property: Key(3)] long ResumedFromStep,
    [property: Key(4)] long TimestampMs);

[MessagePackObject]
public sealed record CheckpointInfo(
    [property: Key(0)] long Step,
    [property: Key(1)] string Manifest,
    [property: Key(2)] long TimestampMs);

/// <summary>The TrainingCoordinator singleton's view: membership, generation, recoveries, checkpoints, ETA.</summary>
[MessagePackObject]
public sealed record CoordinatorMetrics(
    [property: Key(0)] string Node,
    [property: Key(1)] long Generation,
    [property: Key(2)] IReadOnlyList<MemberInfo> Members,
    [property: Key(3)] IReadOnlyList<RecoveryInfo> Recoveries,
    [property: Key(4)] CheckpointInfo? LastCheckpoint,
    [property: Key(5)] long GlobalStep,
    [property: Key(6)] long TotalSteps,
    [property: Key(7)] double EtaSeconds /* NaN: unknown */,
    [property: Key(8)] long TimestampMs) : IMonitorMetric;

public enum ClusterEventKind
{
    Joined = 0,
    Left = 1,
    Failed = 2,
    RecoveryStarted = 3,
    Recovered = 4,
    CheckpointManifested = 5,
    Info = 6,
}

/// <summary>Something worth a line in the recent-events panel.</summary>
[MessagePackObject]
public sealed record ClusterEvent(
    [property: Key(0)] string Node,
    [property: Key(1)] ClusterEventKind Kind,
    [property: Key(2)] long Generation,
    [property: Key(3)] long Step /* -1: not tied to a step */,
    [property: Key(4)] string Message,
    [property: Key(5)] long TimestampMs) : IMonitorMetric;

[MessagePackObject]
public sealed record ActorCount(
    [property: Key(0)] string Actor,
    [property: Key(1)] long Count);

/// <summary>Actor-system health of one node, published periodically by SystemStatsCollector.</summary>
[MessagePackObject]
public sealed record ActorSystemStats(
    [property: Key(0)] string Node,
    [property: Key(1)] IReadOnlyList<ActorCount> Failures /* supervisor-logged failures (restarts/stops) per actor */,
    [property: Key(2)] IReadOnlyList<ActorCount> MailboxDepths,
    [property: Key(3)] long DeadLetters,
    [property: Key(4)] long TimestampMs) : IMonitorMetric;

/// <summary>Ask a MonitorActor for its current <see cref="MonitorSnapshot"/> (local only).</summary>
public sealed record GetSnapshot
{
    public static readonly GetSnapshot Instance = new();
}

public static class MetricClock
{
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
