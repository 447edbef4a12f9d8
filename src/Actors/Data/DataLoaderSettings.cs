using ActorFace.Actors.Settings;

namespace ActorFace.Actors.Data;

public enum BadRecordPolicy
{
    /// <summary>Replace the bad sample by the next readable one, count it, warn once per file.</summary>
    Skip,
    /// <summary>Stop the loader and tell the consumer (<see cref="LoaderFailed"/>).</summary>
    Fail,
}

/// <summary>
/// DataLoaderActor settings: batch_size (per rank), num_workers (decode threads), seed (sampler order and flips),
/// data.prefetch (most batches decoded or decoding ahead of the consumer) and data.bad_records, as documented in the
/// reference configuration (Settings/actorface-reference.conf) and bound into <see cref="TrainingSettings"/>.
/// </summary>
public sealed record DataLoaderSettings(int BatchSize, int Workers, int Prefetch, long Seed, BadRecordPolicy BadRecords)
{
    public static DataLoaderSettings From(TrainingSettings settings) =>
        new DataLoaderSettings(settings.BatchSize, settings.NumWorkers, settings.DataPrefetch, settings.Seed,
            settings.DataBadRecords == "fail" ? BadRecordPolicy.Fail : BadRecordPolicy.Skip);

    public DataLoaderSettings Validated()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch_size must be >= 1");
        if (Workers < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "num_workers must be >= 1");
        if (Prefetch < 1) throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, "data.prefetch must be >= 1");
        return this;
    }
}
