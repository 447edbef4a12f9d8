using Akka.Configuration;

namespace ActorFace.Actors.Data;

public enum BadRecordPolicy
{
    /// <summary>Replace the bad sample by the next readable one, count it, warn once per file.</summary>
    Skip,
    /// <summary>Stop the loader and tell the consumer (<see cref="LoaderFailed"/>).</summary>
    Fail,
}

/// <summary>
/// DataLoaderActor settings, bound from the <c>actorface</c> HOCON block (arcface_torch key names where one exists):
/// <code>
/// actorface {
///   batch_size = 128      # per rank
///   num_workers = 2       # decode threads per loader
///   seed = 2048           # sampler order and flip decisions
///   data {
///     prefetch = 6        # most batches decoded/decoding ahead of the consumer (DataLoaderX's queue is 6)
///     bad_records = skip  # skip | fail
///   }
/// }
/// </code>
/// </summary>
public sealed record DataLoaderSettings(int BatchSize, int Workers = 2, int Prefetch = 6, long Seed = 2048,
    BadRecordPolicy BadRecords = BadRecordPolicy.Skip)
{
    public static DataLoaderSettings FromConfig(Config actorface)
    {
        var policy = actorface.GetString("data.bad_records", "skip").ToLowerInvariant() switch
        {
            "skip" => BadRecordPolicy.Skip,
            "fail" => BadRecordPolicy.Fail,
            var other => throw new ConfigurationException($"actorface.data.bad_records must be 'skip' or 'fail', got '{other}'"),
        };
        return new DataLoaderSettings(
            actorface.GetInt("batch_size", 128),
            actorface.GetInt("num_workers", 2),
            actorface.GetInt("data.prefetch", 6),
            actorface.GetLong("seed", 2048),
            policy).Validated();
    }

    public DataLoaderSettings Validated()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch_size must be >= 1");
        if (Workers < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "num_workers must be >= 1");
        if (Prefetch < 1) throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, "data.prefetch must be >= 1");
        return this;
    }
}
