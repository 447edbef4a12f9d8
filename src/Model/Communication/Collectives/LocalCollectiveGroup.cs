using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// Ranks that are threads of one process. Every operation is a few barrier-separated phases over the ranks'
/// own buffers (published in shared slots), so data is read where it lies and copied only into its destination.
/// An abort, a timeout or a rank's Dispose aborts the whole group: the other ranks would otherwise wait forever.
/// </summary>
public static class LocalCollectiveGroup
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static ICollective[] Create(int worldSize, TimeSpan? timeout = null)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "world size must be >= 1");
        var t = timeout ?? DefaultTimeout;
        if (t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), t, "timeout must be positive");
        var shared = new LocalGroupState(worldSize, t);
        var ranks = new ICollective[worldSize];
        for (int r = 0; r < worldSize; r++) ranks[r] = new LocalCollective(shared, r);
        return ranks;
    }
}

/// <summary>What the thread-ranks of one group share.</summary>
internal sealed class LocalGroupState
{
    public LocalGroupState(int worldSize, TimeSpan timeout)
    {
        WorldSize = worldSize;
        Timeout = timeout;
        Barrier = new Barrier(worldSize);
        Slots = new Tensor?[worldSize];
        Headers = new OpHeader[worldSize];
    }

    public int WorldSize { get; }
    public TimeSpan Timeout { get; }
    public Barrier Barrier { get; }
    public AbortSignal Abort { get; } = new();
    public Tensor?[] Slots { get; }
    public OpHeader[] Headers { get; }
    /// <summary>Ranks inside a collective that has not completed (they may read each other's published buffers).</summary>
    public int InCall;
}
