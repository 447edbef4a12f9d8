using ActorFace.Host.Clustering;
using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using ActorFace.Host.Infrastructure;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench speed`: arcface_torch's speed and memory tables (spec §8.6) at this machine's scale. Every cell
/// (mode x classes x ranks) runs in fresh child processes, one per rank (tcp collective over loopback when ranks > 1),
/// so each peak-RSS figure is that configuration's own. A cell whose estimated need exceeds MemAvailable is reported
/// as OOM without starting; a child that dies (e.g. killed by the kernel) is reported as OOM/failed too.
/// </summary>
public static class BenchSpeedCommand
{
    public static Command Create()
    {
        var command = new Command("speed", "Samples/s and peak memory per rank: Data Parallel, Model Parallel, bf16 + Model Parallel, bf16 + Partial FC 0.1");
        var network = new Option<string>("--network") { Description = "r18 r34 r50 r100 mbf mbf_large", DefaultValueFactory = _ => "r18" };
        var classes = new Option<long[]>("--classes") { Description = "class counts, comma separated", DefaultValueFactory = _ => new[] { 100_000L, 1_000_000L }, CustomParser = r => ParseList(r.Tokens.Select(t => t.Value)) };
        var ranks = new Option<int[]>("--ranks") { Description = "rank counts, comma separated", DefaultValueFactory = _ => new[] { 1 }, CustomParser = r => ParseList(r.Tokens.Select(t => t.Value)).Select(v => (int)v).ToArray() };
        var batch = new Option<int>("--batch") { Description = "per-rank batch", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "timed steps per cell", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 1 };
        var modes = new Option<string>("--modes") { Description = "columns to run, comma separated (default all): " + string.Join(", ", Enum.GetNames<SpeedMode>()), DefaultValueFactory = _ => "" };
        var json = new Option<bool>("--json") { Description = "also print one JSON object per cell" };
        var output = new Option<string?>("--output") { Description = "write the tables as markdown (with the command line) to this file" };
        var child = new Option<string>("--child") { Hidden = true, DefaultValueFactory = _ => "" };
        var rank = new Option<int>("--rank") { Hidden = true, DefaultValueFactory = _ => 0 };
        var world = new Option<int>("--world") { Hidden = true, DefaultValueFactory = _ => 1 };
        var endpoints = new Option<string>("--endpoints") { Hidden = true, DefaultValueFactory = _ => "" };
        foreach (var o in new Option[] { network, classes, ranks, batch, steps, warmup, modes, json, output, child, rank, world, endpoints }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var net = parse.GetValue(network)!;
            var cs = parse.GetValue(classes)!;
            var ws = parse.GetValue(ranks)!;
            int b = parse.GetValue(batch), n = parse.GetValue(steps), w = parse.GetValue(warmup);
            if (!SpeedRow.Known(net)) return Fail($"unknown --network '{net}'");
            if (cs.Length == 0 || cs.Any(c => c < 2) || ws.Length == 0 || ws.Any(r => r is < 1 or > 16) || b < 1 || n < 1 || w < 0)
                return Fail("need --classes >= 2, --ranks in [1, 16], --batch and --steps >= 1, --warmup >= 0");
            var selected = new List<SpeedMode>();
            foreach (var name in parse.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (Enum.TryParse<SpeedMode>(name, ignoreCase: true, out var m)) selected.Add(m);
                else return Fail($"unknown --modes entry '{name}' (expected {string.Join(", ", Enum.GetNames<SpeedMode>())})");
            if (selected.Count == 0) selected.AddRange(Enum.GetValues<SpeedMode>());
            if (parse.GetValue(child) is { Length: > 0 } mode)
                return RunChild(Enum.Parse<SpeedMode>(mode), net, cs[0], b, n, w, parse.GetValue(world), parse.GetValue(rank), parse.GetValue(endpoints)!);

            var cells = new List<SpeedCell>();
            foreach (var r in ws)
                foreach (var c in cs)
                    foreach (var m in selected)
                    {
                        var cell = RunCell(m, net, c, b, n, w, r);
                        cells.Add(cell);
                        Console.Error.WriteLine($"bench speed: {cell.Describe()}");
                        if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(cell));
                    }
            var markdown = SpeedReport.Markdown(cells, net, b, ws, cs, "actorface " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
            Console.WriteLine(markdown);
            if (parse.GetValue(output) is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                File.WriteAllText(path, markdown);
            }
            return 0;
        });
        return command;
    }

    static long[] ParseList(IEnumerable<string> tokens) =>
        tokens.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries))
            .Select(v => long.TryParse(v.Replace("_", ""), out var x) ? x : throw new ArgumentException($"bench speed: '{v}' is not an integer"))
            .ToArray();

    static int Fail(string message)
    {
        Console.Error.WriteLine($"bench speed: {message}");
        return 2;
    }

    static int RunChild(SpeedMode mode, string network, long classes, int batch, int steps, int warmup, int world, int rank, string endpointList)
    {
        RuntimeThreads.ShareCores(world); // the ranks of a row run side by side on this machine
        using ICollective collective = world == 1 ? new SingleRankCollective()
            : TcpCollective.Connect(rank, endpointList.Split(',').Select(IPEndPoint.Parse).ToList(), new TcpCollectiveOptions { SessionToken = "bench-speed" });
        Console.WriteLine(SpeedRow.Run(mode, network, classes, batch, steps, warmup, collective).ToJson());
        return 0;
    }

    static SpeedCell RunCell(SpeedMode mode, string network, long classes, int batch, int steps, int warmup, int world)
    {
        long need = SpeedRow.EstimateBytes(mode, network, classes, batch, world) * world;
        long available = MemAvailableBytes();
        if (available > 0 && need > available * 0.9)
            return new SpeedCell(mode, classes, world, null, null, $"OOM (~{need / 1e9:0} GB > {available / 1e9:0} GB free)");

        var list = world > 1 ? SelfProcess.LoopbackEndpoints(world) : "";
        var children = Enumerable.Range(0, world).Select(r => SelfProcess.Start(new[] { "bench", "speed", "--child", mode.ToString(),
            "--network", network, "--classes", $"{classes}", "--batch", $"{batch}", "--steps", $"{steps}", "--warmup", $"{warmup}",
            "--world", $"{world}", "--rank", $"{r}", "--endpoints", list }, redirectOutput: true)).ToList();
        var outputs = children.Select(c => c.StandardOutput.ReadToEndAsync()).ToList();
        var results = new List<JsonElement>();
        string? failure = null;
        foreach (var (c, r) in children.Select((c, r) => (c, r)))
        {
            c.WaitForExit();
            var line = outputs[r].Result.Split('\n').LastOrDefault(l => l.StartsWith('{'));
            if (c.ExitCode != 0 || line is null)
                failure ??= c.ExitCode is 137 or -9 ? "OOM (killed)" : $"failed (rank {r} exit {c.ExitCode})";
            else results.Add(JsonDocument.Parse(line).RootElement.Clone());
            c.Dispose();
        }
        if (failure is not null || results.Count == 0) return new SpeedCell(mode, classes, world, null, null, failure ?? "failed");
        var rank0 = results[0];
        return new SpeedCell(mode, classes, world, rank0.GetProperty("samples_per_s").GetDouble(),
            results.Max(e => e.GetProperty("peak_rss_mib").GetInt64()), null, rank0.GetProperty("step_s").GetDouble());
    }

    /// <summary>MemAvailable from /proc/meminfo in bytes; 0 when unknown (non-Linux).</summary>
    static long MemAvailableBytes()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:"));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { return 0; }
    }
}

/// <summary>One measured (or refused) cell of the speed tables.</summary>
public sealed record SpeedCell(SpeedMode Mode, long Classes, int Ranks, double? SamplesPerSecond, long? PeakRssMiB, string? Note, double? StepSeconds = null)
{
    public string Describe() => $"{SpeedRow.Name(Mode)}, {Classes} classes, {Ranks} rank(s): " +
        (Note ?? $"{SamplesPerSecond:0.##} samples/s ({StepSeconds:0.###} s/step), peak {PeakRssMiB} MiB per rank");
}
