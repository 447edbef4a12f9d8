namespace ActorFace.Model.Data;

/// <summary>
/// Splits a dataset of <c>count</c> samples between <c>worldSize</c> ranks, like torch's DistributedSampler.
/// <para>
/// The global order of epoch e depends only on (seed, e): a seeded Fisher-Yates permutation (SplitMix64, not
/// System.Random). Without dropLast it is extended cyclically to <c>ceil(count/W)*W</c>; with dropLast it is cut
/// to <c>floor(count/W)*W</c>. Rank r takes global positions r, r+W, r+2W, ...
/// </para>
/// <para>
/// Resume: everything is a pure function of (seed, epoch, rank, world), so (epoch, step) reproduces the exact
/// remainder. After step s with batch B on W ranks, exactly the global positions [0, s*B*W) were consumed; a new
/// generation with a different world size W' continues from that global position (<see cref="Indices(long)"/>),
/// so no sample of the epoch is skipped or repeated by the world change.
/// </para>
/// </summary>
public sealed class DistributedSampler
{
    public int Count { get; }
    public int WorldSize { get; }
    public int Rank { get; }
    public long Seed { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public int Epoch { get; private set; }

    public DistributedSampler(int count, int worldSize, int rank, long seed, bool shuffle = true, bool dropLast = false)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "must be >= 0");
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "must be >= 1");
        if (rank < 0 || rank >= worldSize)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"must be in [0, {worldSize})");
        if (dropLast && count < worldSize)
            throw new ArgumentException($"dropLast with {count} samples leaves nothing for {worldSize} ranks", nameof(count));
        if (!dropLast && count == 0)
            throw new ArgumentException("cannot sample an empty dataset", nameof(count));
        (Count, WorldSize, Rank, Seed, Shuffle, DropLast) = (count, worldSize, rank, seed, shuffle, dropLast);
    }

    public void SetEpoch(int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "must be >= 0");
        Epoch = epoch;
    }

    /// <summary>Global positions used per epoch (all ranks together).</summary>
    public long TotalSize => DropLast ? (long)(Count / WorldSize) * WorldSize : (long)((Count + WorldSize - 1) / WorldSize) * WorldSize;

    /// <summary>Samples this rank gets per epoch.</summary>
    public int NumSamples => (int)(TotalSize / WorldSize);

    /// <summary>Full batches per epoch for this rank (the training loader drops the last partial batch).</summary>
    public int NumBatches(int batchSize) => NumSamples / CheckBatch(batchSize);

    /// <summary>The epoch's global order before padding/cutting: a function of (seed, epoch) only.</summary>
    public static int[] GlobalOrder(int count, long seed, int epoch, bool shuffle)
    {
        if (!shuffle)
        {
            var order = new int[count];
            for (int i = 0; i < count; i++) order[i] = i;
            return order;
        }
        return DeterministicRng.For(seed, epoch, 0x5A3D).Permutation(count);
    }

    /// <summary>This rank's indices for the current epoch.</summary>
    public int[] Indices() => Indices(0);

    /// <summary>
    /// This rank's share of the global positions [globalStart, TotalSize): globalStart+r, globalStart+r+W, ...
    /// </summary>
    public int[] Indices(long globalStart)
    {
        if (globalStart < 0 || globalStart > TotalSize)
            throw new ArgumentOutOfRangeException(nameof(globalStart), globalStart, $"must be in [0, {TotalSize}]");
        var order = GlobalOrder(Count, Seed, Epoch, Shuffle);
        long first = globalStart + Rank;
        int n = first >= TotalSize ? 0 : (int)((TotalSize - first + WorldSize - 1) / WorldSize);
        var mine = new int[n];
        for (int k = 0; k < n; k++)
            mine[k] = order[(int)((first + (long)k * WorldSize) % Count)];
        return mine;
    }

    /// <summary>The indices of batch <paramref name="step"/> (0-based within the epoch) of this rank.</summary>
    public int[] BatchIndices(int step, int batchSize)
    {
        int nb = NumBatches(batchSize);
        if (step < 0 || step >= nb) throw new ArgumentOutOfRangeException(nameof(step), step, $"epoch has {nb} batches");
        return Indices()[(step * batchSize)..((step + 1) * batchSize)];
    }

    /// <summary>Global position reached after <paramref name="step"/> batches of B on W ranks (for a world change).</summary>
    public static long GlobalPosition(int step, int batchSize, int worldSize) => (long)step * batchSize * worldSize;

    static int CheckBatch(int b) => b >= 1 ? b : throw new ArgumentOutOfRangeException(nameof(b), b, "batch size must be >= 1");
}
