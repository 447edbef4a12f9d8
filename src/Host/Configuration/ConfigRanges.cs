namespace ActorFace.Host.Configuration;

/// <summary>
/// The range of every size-like key: each value starts that many threads, allocates that many rows or keeps that
/// many files, so a slip of the keyboard (num_workers = 100000 started 8,000+ threads) must stop at load with a
/// message naming the key and the range. The bounds are far above any real job (arcface_torch's largest config,
/// WebFace42M: 2.06M identities, 42.5M images, batch 128 per GPU) and are listed in the reference configuration.
/// </summary>
public static class ConfigRanges
{
    public sealed record Range(string Key, long Min, long Max, string Meaning);

    public static readonly IReadOnlyList<Range> All =
    [
        new("batch_size", 1, 8192, "images per rank per step"),
        new("embedding_size", 1, 4096, "embedding dimension"),
        new("num_workers", 1, 64, "decoding threads per rank"),
        new("data.prefetch", 1, 64, "batches decoded ahead per rank"),
        new("gradient_acc", 1, 1024, "iterations per optimiser step"),
        new("num_classes", 1, 100_000_000, "identities"),
        new("num_image", 1, 10_000_000_000, "training images"),
        new("num_epoch", 1, 10_000, "epochs"),
        new("warmup_epoch", -1, 10_000, "warm-up epochs; -1, as in arcface_torch's 3millions.py, decays from the first step"),
        new("keep_checkpoints", 1, 1_000, "checkpoints kept on disk"),
        new("synthetic.val_pairs", 0, 1_000_000, "synthetic verification pairs"),
        new("synthetic.val_identities", 0, 1_000_000, "synthetic verification identities"),
        new("cluster.workers_per_node", 0, 128, "ranks in this process"),
        new("cluster.min_workers", 0, 65_536, "ranks"),
        new("cluster.start_workers", 0, 65_536, "ranks"),
        new("cluster.max_workers", 0, 65_536, "ranks"),
        new("cluster.max_restarts", 0, 1_000_000, "recoveries"),
    ];

    /// <summary>"must be in 1..64 (decoding threads per rank), got 100000", or null when the value is in range.</summary>
    public static string? Problem(Range range, long value) =>
        value >= range.Min && value <= range.Max ? null : $"must be in {range.Min}..{range.Max} ({range.Meaning}), got {value}";
}
