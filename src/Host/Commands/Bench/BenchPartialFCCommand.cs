using ActorFace.Host.Clustering;
using System.CommandLine;
using System.Diagnostics;
using System.Net;
using ActorFace.Host.Infrastructure;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Runtime;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench pfc`: one Partial FC step (gather, sample, cosines, margin, distributed softmax, backward,
/// reduce-scatter, SGD update of the shard) at a given class count, per rank: median seconds, samples/s, peak RSS.
/// `--backend tcp` runs every rank in its own process over loopback; `local` runs ranks as threads of one process.
/// </summary>
public static class BenchPartialFCCommand
{
    public static Command Create()
    {
        var command = new Command("pfc", "Partial FC step time and peak memory per rank");
        var classes = new Option<long>("--classes") { DefaultValueFactory = _ => 100_000 };
        var sampleRate = new Option<double>("--sample-rate") { DefaultValueFactory = _ => 1.0 };
        var batch = new Option<int>("--batch") { Description = "per-rank batch", DefaultValueFactory = _ => 128 };
        var embedding = new Option<int>("--embedding-size") { DefaultValueFactory = _ => 512 };
        var world = new Option<int>("--world") { DefaultValueFactory = _ => 1 };
        var backend = new Option<string>("--backend") { Description = "local (threads) or tcp (processes)", DefaultValueFactory = _ => "local" };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 2 };
        var profile = new Option<bool>("--profile") { Description = "also report mean seconds per phase (gather, sample, cosines, softmax, backward, optimizer)" };
        var update = new Option<string>("--update")
        {
            Description = "shard update: deferred (default: unsampled rows catch up when next sampled), row-sparse (every row every step, one fused pass) or dense (plain SGD, the arcface_torch path)",
            DefaultValueFactory = _ => "deferred",
        };
        var isolate = new Option<bool>("--process") { Description = "run this configuration in a fresh child process (clean peak-RSS figure)" };
        var json = new Option<bool>("--json");
        var rank = new Option<int>("--rank") { Hidden = true, DefaultValueFactory = _ => -1 };
        var endpoints = new Option<string>("--endpoints") { Hidden = true, DefaultValueFactory = _ => "" };
        foreach (var o in new Option[] { classes, sampleRate, batch, embedding, world, backend, steps, warmup, isolate, profile, update, json, rank, endpoints })
            command.Options.Add(o);

        command.SetAction(parse =>
        {
            var cfg = new Config(parse.GetValue(classes), parse.GetValue(sampleRate), parse.GetValue(batch), parse.GetValue(embedding),
                parse.GetValue(world), parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(profile), parse.GetValue(update)!);
            var be = parse.GetValue(backend)!;
            bool asJson = parse.GetValue(json);
            if (cfg.Classes < cfg.World || cfg.SampleRate is < 0 or > 1 || cfg.Batch < 1 || cfg.World < 1 || cfg.Steps < 1 || cfg.Embedding < 1)
                return Fail("need --classes >= --world >= 1, --sample-rate in [0, 1], --batch, --steps, --embedding-size >= 1");
            if (be is not ("local" or "tcp")) return Fail($"unknown --backend '{be}' (expected local or tcp)");
            if (cfg.Update is not ("deferred" or "row-sparse" or "dense")) return Fail($"unknown --update '{cfg.Update}' (expected deferred, row-sparse or dense)");

            if (parse.GetValue(rank) is var r and >= 0)
            {
                var list = parse.GetValue(endpoints)!.Split(',').Select(IPEndPoint.Parse).ToList();
                RuntimeThreads.ShareCores(cfg.World); // the rank processes run side by side on this machine
                using var c = TcpCollective.Connect(r, list, new TcpCollectiveOptions { SessionToken = "bench-pfc" });
                Print(RunRank(cfg, c), asJson);
                return 0;
            }
            if (parse.GetValue(isolate) || be == "tcp")
                return RunChildren(cfg, be, asJson);

            var ranks = LocalCollectiveGroup.Create(cfg.World);
            var tasks = ranks.Select(c => Task.Factory.StartNew(() => RunRank(cfg, c), TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(tasks);
            foreach (var t in tasks) Print(t.Result, asJson);
            foreach (var c in ranks) c.Dispose();
            return 0;
        });
        return command;
    }

    internal sealed record Config(long Classes, double SampleRate, int Batch, int Embedding, int World, int Steps, int Warmup, bool Profile = false, string Update = "deferred")
    {
        public IEnumerable<string> Args() => new[] { "bench", "pfc", "--classes", $"{Classes}", "--sample-rate", $"{SampleRate}",
            "--batch", $"{Batch}", "--embedding-size", $"{Embedding}", "--world", $"{World}", "--steps", $"{Steps}", "--warmup", $"{Warmup}" }
            .Concat(Profile ? new[] { "--profile" } : Array.Empty<string>())
            .Concat(new[] { "--update", Update });
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"bench pfc: {message}");
        return 2;
    }

    static void Print(BenchResult result, bool json) => Console.WriteLine(json ? result.ToJson() : result.ToString());

    static int RunChildren(Config cfg, string backend, bool json)
    {
        var extra = json ? new[] { "--json" } : Array.Empty<string>();
        List<Process> children;
        if (backend == "tcp")
        {
            var list = SelfProcess.LoopbackEndpoints(cfg.World);
            children = Enumerable.Range(0, cfg.World)
                .Select(r => SelfProcess.Start(cfg.Args().Concat(new[] { "--backend", "tcp", "--rank", $"{r}", "--endpoints", list }).Concat(extra)))
                .ToList();
        }
        else children = new() { SelfProcess.Start(cfg.Args().Concat(new[] { "--backend", "local" }).Concat(extra)) };
        int failed = 0;
        foreach (var child in children)
        {
            child.WaitForExit();
            if (child.ExitCode != 0) failed = child.ExitCode;
            child.Dispose();
        }
        return failed;
    }

    static BenchResult RunRank(Config cfg, ICollective collective)
    {
        var layout = new ShardLayout(cfg.Classes, cfg.World, collective.Rank);
        using var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        using var shard = new PartialFCShard(layout, cfg.Embedding, margin, new PartialFCOptions(SampleRate: cfg.SampleRate, DeferredUpdate: cfg.Update == "deferred"));
        var generator = new Generator((ulong)(1234 + collective.Rank));
        var times = new List<double>();
        var timer = cfg.Profile ? new PhaseTimer() : null;
        shard.Profile = timer;
        for (int i = 0; i < cfg.Warmup + cfg.Steps; i++)
        {
            if (i == cfg.Warmup) timer?.Reset();
            using var scope = NewDisposeScope();
            var embeddings = randn(new long[] { cfg.Batch, cfg.Embedding }, generator: generator);
            var labels = randint(0, cfg.Classes, new long[] { cfg.Batch }, generator: generator);
            var sw = Stopwatch.StartNew();
            using (var result = shard.ForwardBackward(embeddings, labels, collective))
            {
                if (cfg.Update == "dense")
                {
                    timer?.Begin("optimizer step");
                    shard.Optimizer.Step(0.1);
                    timer?.End();
                }
                else shard.Step(0.1);
                shard.ZeroGrad();
            }
            if (i >= cfg.Warmup) times.Add(sw.Elapsed.TotalSeconds);
            timer?.CountStep();
        }
        var median = BenchResult.Median(times);
        var fields = new Dictionary<string, object>
        {
            ["classes"] = cfg.Classes, ["sample_rate"] = cfg.SampleRate, ["batch"] = cfg.Batch, ["world"] = cfg.World,
            ["rank"] = collective.Rank, ["num_local"] = layout.NumLocal, ["num_sample"] = shard.NumSample,
            ["malloc"] = MallocTuning.Mode, ["update"] = cfg.Update, ["step_s"] = Math.Round(median, 4),
            ["samples_per_s"] = Math.Round(cfg.Batch * cfg.World / median, 1),
            ["peak_rss_mib"] = ProcessMemory.PeakRssBytes() >> 20,
        };
        // Phase names become keys "phase_<name>_s": mean seconds per timed step.
        if (timer is not null)
            foreach (var (phase, seconds) in timer.MeanSeconds())
                fields[$"phase_{phase.Replace(' ', '_').Replace('+', '_')}_s"] = Math.Round(seconds, 4);
        return new BenchResult("pfc", fields);
    }
}
