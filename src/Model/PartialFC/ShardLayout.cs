namespace ActorFace.Model.PartialFC;

/// <summary>
/// The class partition of Partial FC (spec §3.1): rank r owns the contiguous classes
/// [ClassStart, ClassStart + NumLocal), remainder classes on the lowest ranks.
/// </summary>
public sealed record ShardLayout
{
    public long NumClasses { get; }
    public int WorldSize { get; }
    public int Rank { get; }
    public long NumLocal { get; }
    public long ClassStart { get; }
    public long ClassEnd => ClassStart + NumLocal;

    public ShardLayout(long numClasses, int worldSize, int rank)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "num_classes must be >= 1");
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "world size must be >= 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {worldSize})");
        (NumClasses, WorldSize, Rank) = (numClasses, worldSize, rank);
        var q = numClasses / worldSize;
        var rem = numClasses % worldSize;
        NumLocal = q + (rank < rem ? 1 : 0);
        ClassStart = q * rank + Math.Min(rank, rem);
    }

    /// <summary>int(sample_rate · num_local): Python truncation toward zero of the float64 product.</summary>
    public long NumSample(double sampleRate)
    {
        if (!(sampleRate >= 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "sample_rate must be in [0, 1]");
        return (long)Math.Truncate(sampleRate * NumLocal);
    }

    /// <summary>The layouts of every rank of a world, in rank order.</summary>
    public static IReadOnlyList<ShardLayout> All(long numClasses, int worldSize) =>
        Enumerable.Range(0, worldSize).Select(r => new ShardLayout(numClasses, worldSize, r)).ToArray();
}
