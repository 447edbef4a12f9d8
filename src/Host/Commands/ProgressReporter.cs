using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ActorFace.Host.Commands;

/// <summary>
/// Progress of a long command, always on stderr (stdout carries the results and --json). On a terminal it is a live
/// Spectre.Console bar with rate and ETA; otherwise (a log file, a pipe, a test's writer) it is one plain line every
/// <see cref="DefaultInterval"/> (or <c>ACTORFACE_PROGRESS_SECONDS</c>), plus a closing line when any was printed.
/// Thread-safe: workers may report concurrently.
/// </summary>
public sealed class ProgressReporter : IDisposable
{
    /// <summary>Seconds between plain lines; 0 prints one per update (tests, debugging).</summary>
    public const string IntervalVariable = "ACTORFACE_PROGRESS_SECONDS";
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    readonly string label, unit;
    readonly TextWriter? plain;
    readonly TimeSpan interval;
    readonly Func<TimeSpan> clock;
    readonly object gate = new();
    readonly CancellationTokenSource stop = new();
    readonly Task? live;
    long done, total;
    TimeSpan lastLine;
    bool printedAny, disposed;

    /// <param name="plainOutput">where plain lines go (null: a live bar on the terminal's stderr)</param>
    /// <param name="clock">elapsed time since the start (tests inject one)</param>
    public ProgressReporter(string label, long total, string unit, TextWriter? plainOutput, TimeSpan interval, Func<TimeSpan>? clock = null)
    {
        this.label = label;
        this.unit = unit;
        this.total = Math.Max(0, total);
        this.interval = interval;
        var watch = Stopwatch.StartNew();
        this.clock = clock ?? (() => watch.Elapsed);
        plain = plainOutput;
        if (plain is null) live = Task.Run(RunLiveBar);
    }

    /// <summary>A reporter for a command writing to <paramref name="error"/>: a live bar only when that is the real,
    /// un-redirected stderr of an interactive terminal.</summary>
    public static ProgressReporter ForCommand(string label, long total, string unit, TextWriter? error = null)
    {
        error ??= Console.Error;
        // AnsiConsole's own profile describes stdout, which may be redirected (--json > file) while stderr is a terminal.
        bool terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected
                        && StderrConsole().Profile.Capabilities.Ansi;
        return new ProgressReporter(label, total, unit, terminal ? null : error, PlainInterval());
    }

    static TimeSpan PlainInterval() =>
        double.TryParse(Environment.GetEnvironmentVariable(IntervalVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0
            ? TimeSpan.FromSeconds(s) : DefaultInterval;

    public long Done => Interlocked.Read(ref done);
    public long Total => Interlocked.Read(ref total);

    /// <summary>Adds <paramref name="count"/> finished units.</summary>
    public void Advance(long count = 1)
    {
        Interlocked.Add(ref done, count);
        MaybePrint();
    }

    /// <summary>Absolute progress, for callbacks of the form (done, total); a smaller <paramref name="doneSoFar"/>
    /// from a slower worker never moves the count back.</summary>
    public void Report(long doneSoFar, long totalUnits)
    {
        Interlocked.Exchange(ref total, totalUnits);
        long seen;
        while ((seen = Interlocked.Read(ref done)) < doneSoFar && Interlocked.CompareExchange(ref done, doneSoFar, seen) != seen) { }
        MaybePrint();
    }

    /// <summary>The (done, total) callback form used by the packer and verifier.</summary>
    public Action<int, int> Callback => (d, t) => Report(d, t);

    void MaybePrint()
    {
        if (plain is null) return;
        lock (gate)
        {
            if (disposed) return;
            var now = clock();
            if (now - lastLine < interval && printedAny) return;
            if (!printedAny && now < interval) return; // short commands stay quiet
            lastLine = now;
            printedAny = true;
            plain.WriteLine(Line(now));
        }
    }

    string Line(TimeSpan elapsed)
    {
        long d = Done, t = Total;
        double rate = d / Math.Max(elapsed.TotalSeconds, 1e-9);
        var c = CultureInfo.InvariantCulture;
        var text = t > 0 ? string.Create(c, $"{label}: {d:N0}/{t:N0} {unit} ({100.0 * d / t:F0} %), {rate:F1} {unit}/s")
                         : string.Create(c, $"{label}: {d:N0} {unit}, {rate:F1} {unit}/s");
        return t > 0 && d < t && rate > 0 ? $"{text}, ETA {Format(TimeSpan.FromSeconds((t - d) / rate))}" : text;
    }

    static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    static IAnsiConsole StderrConsole() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    async Task RunLiveBar()
    {
        await StderrConsole().Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RateColumn(unit),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(label, maxValue: Math.Max(1, Total));
                while (!stop.IsCancellationRequested)
                {
                    task.MaxValue = Math.Max(1, Total);
                    task.Value = Done;
                    try { await Task.Delay(200, stop.Token); } catch (OperationCanceledException) { }
                }
                task.MaxValue = Math.Max(1, Total);
                task.Value = Done;
                task.StopTask();
            });
    }

    public void Dispose()
    {
        stop.Cancel();
        live?.Wait();
        if (plain is not null)
            lock (gate)
            {
                if (!disposed && printedAny)
                {
                    var elapsed = clock();
                    plain.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{label}: {Done:N0} {unit} in {elapsed.TotalSeconds:F1} s ({Done / Math.Max(elapsed.TotalSeconds, 1e-9):F1} {unit}/s)"));
                }
                disposed = true;
            }
        stop.Dispose();
    }

    /// <summary>Units per second, from Spectre's own moving speed estimate.</summary>
    sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:F1} {unit}/s") : $"– {unit}/s", new Style(Color.Grey));
    }
}
