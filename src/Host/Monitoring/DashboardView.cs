using System.Globalization;
using ActorFace.Actors.Monitoring;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ActorFace.Host.Monitoring;

/// <summary>Renders a <see cref="MonitorSnapshot"/> as a Spectre.Console screen (live or once).</summary>
public static class DashboardView
{
    private static readonly (string Name, string Color, Func<StepTimeBreakdown, double> Ms)[] Phases =
    [
        ("data wait", "mediumpurple", t => t.DataWaitMs),
        ("forward", "dodgerblue1", t => t.ForwardMs),
        ("partial FC", "aquamarine3", t => t.PartialFcMs),
        ("backward", "gold1", t => t.BackwardMs),
        ("all-reduce", "indianred1", t => t.AllReduceMs),
        ("optimizer", "grey62", t => t.OptimizerMs),
    ];

    private const string Blocks = "▁▂▃▄▅▆▇█";

    public static IRenderable Render(MonitorSnapshot s, string connection)
    {
        var c = s.Coordinator;
        var header = new Markup(
            $"[bold]ActorFace monitor[/]  [grey]{Markup.Escape(connection)}[/]\n" +
            $"generation [bold]{s.Generation}[/]   step [bold]{s.GlobalStep}{(c is { TotalSteps: > 0 } ? $" / {c.TotalSteps}" : "")}[/]   " +
            $"[bold]{F(s.ClusterSamplesPerSecond, 1)}[/] samples/s   ETA [bold]{Eta(c?.EtaSeconds ?? double.NaN)}[/]   " +
            $"[grey]{s.MetricsReceived} records, {s.TakenAtUtc:HH:mm:ss} UTC[/]");

        var charts = new Columns(
            Chart("loss", s.Series.Loss, "dodgerblue1", "F4"),
            Chart("samples/s", s.Series.Throughput, "gold1", "F1"),
            Chart("learning rate", s.Series.LearningRate, "green3", "G3"),
            AccuracyChart(s.Series.Accuracy));

        return new Rows(header, charts, Ranks(s), new Columns(Loaders(s), Shards(s)), new Columns(Members(s), Events(s)));
    }

    private static Panel Chart(string title, IReadOnlyList<SeriesPoint> points, string color, string format)
    {
        var body = points.Count == 0
            ? "[grey]no data yet[/]"
            : $"[{color}]{Sparkline(points.Select(p => p.Value).ToArray(), 32)}[/]\n" +
              $"{points[^1].Value.ToString(format, CultureInfo.InvariantCulture)} [grey]@ step {points[^1].Step}[/]";
        return new Panel(new Markup(body)).Header(title).BorderColor(Color.Grey39);
    }

    private static Panel AccuracyChart(IReadOnlyDictionary<string, IReadOnlyList<SeriesPoint>> accuracy)
    {
        var lines = accuracy.Count == 0
            ? ["[grey]no verification yet[/]"]
            : accuracy.Select(kv =>
                $"{Markup.Escape(kv.Key),-9} [mediumpurple]{Sparkline(kv.Value.Select(p => p.Value).ToArray(), 16)}[/] {kv.Value[^1].Value:F4}");
        return new Panel(new Markup(string.Join("\n", lines))).Header("verification accuracy").BorderColor(Color.Grey39);
    }

    private static Table Ranks(MonitorSnapshot s)
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey39).Title("ranks")
            .AddColumns("rank", "node", "state", "gen", "step", "samples/s", "loss", "lr", "grad", "RSS", "GPU", "age", "step ms", "step time");
        var maxTotal = s.Workers.Count == 0 ? 1 : Math.Max(1e-9, s.Workers.Max(w => w.Latest.StepTime.TotalMs));
        foreach (var o in s.Workers)
        {
            var w = o.Latest;
            var dim = o.Stale ? "grey" : "default";
            table.AddRow(
                new Markup($"[{dim}]{w.Rank}[/]"), new Markup($"[{dim}]{Markup.Escape(ShortNode(w.Node))}[/]"),
                new Markup($"[{StateColor(w.State, o.Stale)}]{w.State}{(o.Stale ? " (stale)" : "")}[/]"),
                new Text(w.Generation.ToString(CultureInfo.InvariantCulture)), new Text(w.GlobalStep.ToString(CultureInfo.InvariantCulture)),
                new Text(F(w.SamplesPerSecond, 1)), new Text(F(w.Loss, 4)), new Text(w.LearningRate.ToString("G3", CultureInfo.InvariantCulture)),
                new Text(F(w.GradNorm, 2)), new Text(Bytes(w.RssBytes)), new Text(Bytes(w.GpuMemoryBytes)), new Text($"{o.AgeSeconds:F0}s"),
                new Text(F(w.StepTime.TotalMs, 0)), new Markup(BreakdownBar(w.StepTime, maxTotal, 24)));
        }
        table.Caption(string.Join("  ", Phases.Select(p => $"[{p.Color}]█[/] {p.Name}")));
        return table;
    }

    private static Table Loaders(MonitorSnapshot s)
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey39).Title("data loaders")
            .AddColumns("rank", "queue/credits", "decode img/s", "corrupt");
        foreach (var o in s.Loaders)
            table.AddRow($"{o.Latest.Rank}", $"{o.Latest.QueueDepth}/{o.Latest.Credits}", F(o.Latest.DecodedImagesPerSecond, 0), $"{o.Latest.CorruptSkipped}");
        return table;
    }

    private static Table Shards(MonitorSnapshot s)
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey39).Title("class shards")
            .AddColumns("rank", "classes", "sampled/step", "bytes");
        foreach (var o in s.Shards)
            table.AddRow($"{o.Latest.Rank}", $"[[{o.Latest.ClassStart}, {o.Latest.ClassStart + o.Latest.NumLocal})",
                $"{o.Latest.SampledClassesPerStep}", Bytes(o.Latest.ShardBytes));
        return table;
    }

    private static Table Members(MonitorSnapshot s)
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey39).Title("members").AddColumns("address", "status", "roles", "rank");
        foreach (var m in s.Members)
            table.AddRow(Markup.Escape(m.Address), Markup.Escape(m.Status), Markup.Escape(string.Join(",", m.Roles)), m.Rank >= 0 ? $"{m.Rank}" : "-");
        if (s.Coordinator is { } c)
            table.Caption($"recoveries {c.Recoveries.Count}" +
                          (c.Recoveries.Count > 0 ? $" (last: {Markup.Escape(c.Recoveries[^1].Cause)}, {c.Recoveries[^1].DurationSeconds:F1}s)" : "") +
                          $"   last checkpoint {(c.LastCheckpoint is { } cp ? $"step {cp.Step}" : "none")}");
        return table;
    }

    private static Panel Events(MonitorSnapshot s)
    {
        var lines = s.RecentEvents.Take(10).Select(e =>
            $"[grey]{DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampMs):HH:mm:ss}[/] [{KindColor(e.Kind)}]{e.Kind,-20}[/] {Markup.Escape(e.Message)}");
        return new Panel(new Markup(s.RecentEvents.Count == 0 ? "[grey]no events yet[/]" : string.Join("\n", lines)))
            .Header("recent events").BorderColor(Color.Grey39);
    }

    internal static string Sparkline(IReadOnlyList<double> values, int width)
    {
        var tail = values.Skip(Math.Max(0, values.Count - width)).Where(double.IsFinite).ToArray();
        if (tail.Length == 0) return "";
        var (lo, hi) = (tail.Min(), tail.Max());
        return string.Concat(tail.Select(v => Blocks[hi > lo ? (int)Math.Round((v - lo) / (hi - lo) * (Blocks.Length - 1)) : Blocks.Length / 2]));
    }

    internal static string BreakdownBar(StepTimeBreakdown t, double maxTotalMs, int width) =>
        string.Concat(Phases.Select(p =>
        {
            var n = (int)Math.Round(p.Ms(t) / maxTotalMs * width);
            return n > 0 ? $"[{p.Color}]{new string('█', n)}[/]" : "";
        }));

    /// <summary>`akka.tcp://actorface@10.0.0.5:4053` -> `10.0.0.5:4053`: the system name is the same for every rank.</summary>
    internal static string ShortNode(string node)
    {
        var at = node.IndexOf('@');
        return node.StartsWith("akka", StringComparison.Ordinal) && at > 0 ? node[(at + 1)..] : node;
    }

    private static string StateColor(WorkerState state, bool stale) => stale ? "grey" : state switch
    {
        WorkerState.Training => "green",
        WorkerState.Recovering => "red",
        WorkerState.Checkpointing or WorkerState.Joining => "yellow",
        _ => "grey",
    };

    private static string KindColor(ClusterEventKind kind) => kind switch
    {
        ClusterEventKind.Failed or ClusterEventKind.RecoveryStarted => "red",
        ClusterEventKind.Recovered or ClusterEventKind.Joined => "green",
        ClusterEventKind.CheckpointManifested => "dodgerblue1",
        _ => "grey",
    };

    private static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "-";

    private static string Eta(double seconds) => !double.IsFinite(seconds) ? "unknown"
        : seconds < 90 ? $"{seconds:F0}s" : seconds < 5400 ? $"{seconds / 60:F0}min" : $"{seconds / 3600:F1}h";

    private static string Bytes(long b)
    {
        if (b <= 0) return "-";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = b;
        var i = 0;
        while (v >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return v.ToString(i == 0 ? "F0" : "F1", CultureInfo.InvariantCulture) + " " + units[i];
    }
}
