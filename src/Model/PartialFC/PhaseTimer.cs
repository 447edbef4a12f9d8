using System.Diagnostics;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// Wall-clock seconds per named phase of a Partial FC step, summed over steps (libtorch CPU ops are synchronous, so a
/// stopwatch around them is exact). Optional: a shard without one pays nothing. Used by `actorface bench pfc --profile`.
/// </summary>
public sealed class PhaseTimer
{
    readonly Dictionary<string, double> seconds = new();
    readonly List<string> order = new();
    readonly Stopwatch watch = new();
    string? current;

    public int Steps { get; private set; }

    /// <summary>Ends the running phase (if any) and starts <paramref name="phase"/>.</summary>
    public void Begin(string phase)
    {
        End();
        current = phase;
        watch.Restart();
    }

    /// <summary>Ends the running phase, adding its time.</summary>
    public void End()
    {
        if (current is null) return;
        if (!seconds.ContainsKey(current)) { seconds[current] = 0; order.Add(current); }
        seconds[current] += watch.Elapsed.TotalSeconds;
        current = null;
    }

    /// <summary>Counts one step (divisor of <see cref="MeanSeconds"/>).</summary>
    public void CountStep() => Steps++;

    public void Reset()
    {
        seconds.Clear();
        order.Clear();
        current = null;
        Steps = 0;
    }

    /// <summary>Mean seconds per step of each phase, in first-seen order.</summary>
    public IReadOnlyList<(string Phase, double Seconds)> MeanSeconds() =>
        order.Select(p => (p, seconds[p] / Math.Max(1, Steps))).ToList();
}
