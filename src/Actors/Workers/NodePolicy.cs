using System.Diagnostics;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Workers;

/// <summary>
/// The decisions of a <see cref="WorkerNode"/> about its ranks, free of actors so that they can be tested without a
/// cluster: which generation is current, whether it is being aborted, when the step watchdog calls a rank hung (reported
/// once; the coordinator's abort follows), and which rank failures are reported and how they are logged.
/// </summary>
public sealed class NodePolicy(TimeSpan stepTimeout)
{
    public int Generation { get; private set; }
    public bool Ended { get; private set; }

    /// <summary>The current generation is being aborted (or its failure was reported): nothing more is reported.</summary>
    public bool Aborting { get; private set; }

    /// <summary>How often the watchdog looks (a quarter of `cluster.step_timeout`, within 0.1 … 1 s); null: no watchdog.</summary>
    public TimeSpan? WatchdogInterval => stepTimeout > TimeSpan.Zero
        ? TimeSpan.FromTicks(Math.Clamp(stepTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond))
        : null;

    /// <summary>A new generation; false once the job has ended (the node starts no more ranks).</summary>
    public bool Start(int generation)
    {
        if (Ended) return false;
        (Generation, Aborting) = (generation, false);
        return true;
    }

    /// <summary>An abort of <paramref name="generation"/>: true when it is the current one (its ranks are stopped).</summary>
    public bool Abort(int generation)
    {
        if (generation != Generation) return false;
        Aborting = true;
        return true;
    }

    /// <summary>The abort is confirmed to the coordinator.</summary>
    public void AbortReported() => Aborting = false;

    public void End() => Ended = true;

    /// <summary>The step watchdog at <paramref name="now"/> (a Stopwatch timestamp): the reason to fail the generation
    /// when a rank with work has made no progress for `cluster.step_timeout` (hung in native code, a deadlock, a stuck
    /// loader), else null. Reports once; the coordinator's abort follows.</summary>
    public (int Rank, string Reason)? CheckProgress(IEnumerable<(int Rank, RankWatch Watch)> ranks, long now)
    {
        if (Aborting || Ended || stepTimeout <= TimeSpan.Zero) return null;
        foreach (var (rank, watch) in ranks)
        {
            if (watch.StalledFor(now) is not { } stalled || stalled < stepTimeout) continue;
            Aborting = true;
            return (rank, $"rank {rank} made no progress for {stalled.TotalSeconds:0.#} s after step {watch.LastStep} " +
                          $"(cluster.step_timeout = {stepTimeout.TotalSeconds:0.#} s): hung");
        }
        return null;
    }

    /// <summary>A rank's worker threw: what to report (null: nothing, it belongs to an old or aborting generation).</summary>
    public RankFailureReport? RankFailed(Exception e)
    {
        if (e is not RankFailureException f || f.Generation != Generation || Aborting) return null;
        var inner = f.InnerException!;
        // Failures the runtime raises on purpose explain themselves; a stack trace would only bury the message.
        var explained = inner is CollectiveAbortedException or NonFiniteLossException or Training.NonFiniteWeightsException;
        var reason = explained ? inner.Message : $"{inner.GetType().Name}: {inner.Message}";
        return new RankFailureReport(f.Generation, f.Rank, reason, WithStackTrace: !explained || inner is CollectiveAbortedException);
    }

    public static long Now() => Stopwatch.GetTimestamp();
}

/// <summary>A rank failure to report to the coordinator; <c>WithStackTrace</c>: log it as an error with the exception
/// (else a warning with the message only).</summary>
public sealed record RankFailureReport(int Generation, int Rank, string Reason, bool WithStackTrace);
