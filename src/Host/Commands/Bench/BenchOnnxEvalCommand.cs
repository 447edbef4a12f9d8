using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ActorFace.Model.Evaluation;
using Microsoft.ML.OnnxRuntime;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// <c>actorface bench onnx-eval</c>: the embedding stage of <c>actorface eval --onnx</c> (every face of a bin and its
/// mirror, decoded beforehand), timed with the ONNX Runtime settings exposed so each can be ablated. The peer is
/// <c>docs/bench/pytorch_peer.py onnx</c> (OpenCV dnn, same bin, same preprocessing). Reports inferences/s wall-clock
/// and per CPU-second of the process (the latter is what stays comparable on a shared machine).
/// </summary>
public static class BenchOnnxEvalCommand
{
    public static Command Create()
    {
        var onnx = new Option<string>("--onnx") { Description = "ONNX face model", Required = true };
        var bin = new Option<string>("--bin") { Description = "verification .bin", Required = true };
        var mean = new Option<float>("--mean") { Description = "input mean (x - mean) / std", DefaultValueFactory = _ => 127.5f };
        var std = new Option<float>("--std") { Description = "input std", DefaultValueFactory = _ => 127.5f };
        var bgr = new Option<bool>("--bgr") { Description = "feed BGR instead of RGB" };
        var batch = new Option<int>("--batch") { Description = "faces per run (symbolic or re-batched graphs)", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { Description = "cores to use (0 = all)", DefaultValueFactory = _ => 0 };
        var runs = new Option<int>("--runs") { Description = "concurrent runs (0 = one per core)", DefaultValueFactory = _ => 0 };
        var intra = new Option<int>("--intra") { Description = "intra-op threads per run (0 = cores / runs)", DefaultValueFactory = _ => 0 };
        var rebatch = new Option<bool>("--rebatch") { Description = "rewrite a fixed batch-1 graph to a symbolic batch (runs of --batch faces)" };
        var optimization = new Option<GraphOptimizationLevel>("--optimization") { Description = "ONNX Runtime graph optimisation level", DefaultValueFactory = _ => GraphOptimizationLevel.ORT_ENABLE_ALL };
        var keepPrelu = new Option<bool>("--keep-prelu") { Description = "run PRelu as it is (no vectorised rewrite)" };
        var spin = new Option<bool>("--spin") { Description = "let ONNX Runtime's pool threads spin between nodes" };
        var pairs = new Option<int>("--pairs") { Description = "use only the first N pairs (0 = all)", DefaultValueFactory = _ => 0 };
        var repeat = new Option<int>("--repeat") { Description = "timed passes (the median is reported)", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "one JSON object per line" };
        var command = new Command("onnx-eval", "ONNX verification embedding throughput (the eval --onnx loop) with ONNX Runtime settings to ablate");
        foreach (var o in new Option[] { onnx, bin, mean, std, bgr, batch, threads, runs, intra, rebatch, optimization, keepPrelu, spin, pairs, repeat, json }) command.Options.Add(o);
        command.SetAction(p => CommandErrors.Run(p, "bench onnx-eval", output =>
        {
            if (p.GetValue(batch) is < 1 or > EmbedderOptions.MaxBatch) throw new ArgumentException($"--batch must be 1..{EmbedderOptions.MaxBatch}");
            if (p.GetValue(repeat) < 1 || p.GetValue(pairs) < 0 || p.GetValue(runs) < 0 || p.GetValue(intra) < 0 || p.GetValue(threads) < 0)
                throw new ArgumentException("--repeat must be positive; --pairs, --runs, --intra and --threads must not be negative");
            var path = p.GetValue(bin)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"--bin {path}: file not found", path);
            var model = p.GetValue(onnx)!;
            if (!File.Exists(model)) throw new FileNotFoundException($"--onnx {model}: file not found", model);
            var set = new DecodedVerificationSet(Subset(VerificationBin.Load(path), p.GetValue(pairs)));
            var settings = new OnnxRuntimeSettings(p.GetValue(runs), p.GetValue(intra), p.GetValue(rebatch), p.GetValue(spin), !p.GetValue(keepPrelu), p.GetValue(optimization));
            using var embedder = new OnnxFaceEmbedder(model, new OnnxPreprocessing(p.GetValue(mean), p.GetValue(std), p.GetValue(bgr)),
                p.GetValue(batch), p.GetValue(threads), settings);
            embedder.Embed(set.FacesAndMirrors.Take(2).ToArray()); // warm-up: the first run plans the graph
            var walls = new List<double>();
            var cpus = new List<double>();
            VerificationRunner.Timed? run = null;
            using var progress = ProgressReporter.ForCommand("bench onnx-eval", p.GetValue(repeat), "passes");
            for (int r = 0; r < p.GetValue(repeat); r++)
            {
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                run = VerificationRunner.Run(set, embedder, requireFinite: true);
                walls.Add(run.EmbeddingTime.TotalSeconds);
                cpus.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds);
                progress.Advance();
            }
            int inferences = run!.ImagesEmbedded;
            double wall = BenchResult.Median(walls), cpu = BenchResult.Median(cpus);
            var result = new BenchResult("onnx-eval", new Dictionary<string, object>
            {
                ["model"] = embedder.Description,
                ["inferences"] = inferences,
                ["seconds"] = wall,
                ["inferences_per_s"] = inferences / wall,
                ["inferences_per_cpu_s"] = inferences / cpu,
                ["accuracy_flip"] = run.Result.Flip.Accuracy.ToString("F5", CultureInfo.InvariantCulture),
                ["accuracy"] = run.Result.NoFlip.Accuracy.ToString("F5", CultureInfo.InvariantCulture),
                ["xnorm"] = run.Result.XNorm.ToString("F6", CultureInfo.InvariantCulture),
                ["runs"] = settings.ConcurrentRuns, ["intra"] = settings.IntraOpThreads, ["rebatched"] = embedder.Rebatched, ["prelu_rewritten"] = embedder.PReluRewritten,
                ["batch"] = p.GetValue(batch), ["spin"] = settings.Spinning, ["optimization"] = settings.Optimization.ToString(),
            });
            output.WriteLine(p.GetValue(json) ? result.ToJson() : result.ToString());
            return 0;
        }));
        return command;
    }

    static VerificationBin Subset(VerificationBin bin, int pairs) => pairs <= 0 || pairs >= bin.PairCount ? bin
        : new VerificationBin(bin.Name, bin.Images.Take(2 * pairs).ToList(), bin.IsSame.Take(pairs).ToList());
}
