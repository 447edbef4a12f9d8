using System.Diagnostics;

namespace ActorFace.Actors.Workers;

/// <summary>
/// When a rank last made progress, written by its GpuWorker's thread and read by its node's watchdog. A hung rank
/// cannot answer messages (and its process keeps heart-beating), so the node reads this instead of asking.
/// A rank is "busy" while it has steps to run (a lease not yet done); waiting for the next lease is not a stall.
/// </summary>
public sealed class RankWatch
{
    private long _busySince; // Stopwatch timestamp of the last progress while busy; 0 = idle
    private long _step;

    /// <summary>The rank completed <paramref name="step"/> (or got work after being idle) and has more to do.</summary>
    public void Progress(long step)
    {
        Volatile.Write(ref _step, step);
        Volatile.Write(ref _busySince, Stopwatch.GetTimestamp());
    }

    /// <summary>The rank has no work until the coordinator's next lease.</summary>
    public void Idle() => Volatile.Write(ref _busySince, 0);

    public long LastStep => Volatile.Read(ref _step);

    /// <summary>How long the rank has been busy without progress at <paramref name="now"/> (a Stopwatch timestamp),
    /// or null when it is idle.</summary>
    public TimeSpan? StalledFor(long now)
    {
        var since = Volatile.Read(ref _busySince);
        return since == 0 ? null : Stopwatch.GetElapsedTime(since, now);
    }
}
