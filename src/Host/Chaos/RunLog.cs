using System.Globalization;
using System.Text.RegularExpressions;

namespace ActorFace.Host.Chaos;

/// <summary>Every output line of every child process, time-stamped (seconds since the run began) on arrival, plus
/// the harness's own actions; the measurements are read back from it.</summary>
public sealed partial class RunLog
{
    public sealed record Line(double Time, int Process, string Text);

    private readonly List<Line> _lines = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public double Now => _clock.Elapsed.TotalSeconds;

    public void Add(int process, string text)
    {
        lock (_lines) _lines.Add(new Line(Now, process, text));
    }

    public IReadOnlyList<Line> Snapshot()
    {
        lock (_lines) return _lines.ToList();
    }

    public IEnumerable<Line> Since(double time) => Snapshot().Where(l => l.Time >= time);

    /// <summary>`Global Step: N` of rank 0's speed lines.</summary>
    public static long? Step(string text) =>
        StepRegex().Match(text) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>The coordinator's `generation G: W rank(s) ... starting from checkpoint step S (world W0) as step S'`.</summary>
    public static (int Generation, int World, long? FromStep)? GenerationStart(string text)
    {
        var m = GenerationRegex().Match(text);
        if (!m.Success) return null;
        long? from = m.Groups[3].Success ? long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : null;
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), from);
    }

    /// <summary>Lines by which the cluster shows that it noticed a failure.</summary>
    public static bool IsDetection(string text) =>
        text.Contains("Marking node(s) as UNREACHABLE", StringComparison.Ordinal) ||
        (text.StartsWith("[coordinator]", StringComparison.Ordinal) &&
         (text.Contains(" aborted: ", StringComparison.Ordinal) || text.Contains(" left the cluster", StringComparison.Ordinal) ||
          text.Contains(" joined with ", StringComparison.Ordinal)));

    public static double? Accuracy(string text) =>
        AccuracyRegex().Match(text) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"Global Step: (\d+)")]
    private static partial Regex StepRegex();

    [GeneratedRegex(@"^\[coordinator\] generation (\d+): (\d+) rank\(s\)(?:.*?from checkpoint step (\d+))?")]
    private static partial Regex GenerationRegex();

    [GeneratedRegex(@"Accuracy-Flip: ([0-9.]+)")]
    private static partial Regex AccuracyRegex();
}
