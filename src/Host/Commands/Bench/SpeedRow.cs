using System.Diagnostics;
using ActorFace.Model.Backbones;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Runtime;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>The four columns of arcface_torch's speed table (spec §8.6); bf16 stands in for the GPUs' fp16.</summary>
public enum SpeedMode { DataParallel, ModelParallel, ModelParallelBf16, PartialFC01Bf16 }

/// <summary>
/// One cell of `bench speed`, run inside one rank's process: full training steps (backbone forward, classifier
/// forward/backward, backbone backward, gradient all-reduce, SGD on backbone and centres) on synthetic images.
/// Data Parallel = the whole [C, D] classifier replicated on every rank, each rank's softmax over its own batch, and
/// the dense classifier gradient all-reduced with the backbone's (arcface_torch's "Data Parallel" row); the other
/// modes are Partial FC shards (sample rate 1.0 or 0.1).
/// </summary>
public static class SpeedRow
{
    public const int EmbeddingSize = 512;

    public static string Name(SpeedMode mode) => mode switch
    {
        SpeedMode.DataParallel => "Data Parallel",
        SpeedMode.ModelParallel => "Model Parallel",
        SpeedMode.ModelParallelBf16 => "bf16 + Model Parallel",
        _ => "bf16 + Partial FC 0.1",
    };

    public static bool Bf16(SpeedMode mode) => mode is SpeedMode.ModelParallelBf16 or SpeedMode.PartialFC01Bf16;
    public static double SampleRate(SpeedMode mode) => mode == SpeedMode.PartialFC01Bf16 ? 0.1 : 1.0;

    // Backbone parameters (spec §1.3) and a rough training activation footprint per 112x112 sample (fp32, measured
    // order of magnitude); only used to refuse rows that obviously cannot fit.
    static readonly Dictionary<string, (double Params, double ActivationBytes)> Footprint = new()
    {
        ["r18"] = (24.0e6, 45e6), ["r34"] = (34.1e6, 70e6), ["r50"] = (43.6e6, 110e6), ["r100"] = (65.2e6, 200e6),
        ["mbf"] = (2.06e6, 60e6), ["mbf_large"] = (6.3e6, 150e6),
    };

    public static bool Known(string network) => Footprint.ContainsKey(network);

    /// <summary>Estimated peak bytes of one rank (spec §3.9 for the classifier: weight + grad + momentum, ~3 logits copies).</summary>
    public static long EstimateBytes(SpeedMode mode, string network, long classes, int batch, int world)
    {
        bool dp = mode == SpeedMode.DataParallel;
        double rows = dp ? classes : Math.Ceiling((double)classes / world);
        double k = dp ? classes : Math.Floor(SampleRate(mode) * rows);
        double n = dp ? batch : (double)batch * world;
        double fc = 3 * 4.0 * rows * EmbeddingSize + (k < rows ? 3 * 4.0 * k * EmbeddingSize : 0) + 3 * 4.0 * n * k;
        var (p, act) = Footprint[network];
        double backbone = 4 * 4.0 * p + batch * act * (Bf16(mode) ? 0.6 : 1.0);
        return (long)(fc + backbone + 600e6); // + runtime, libtorch and allocator slack
    }

    public static BenchResult Run(SpeedMode mode, string network, long classes, int batch, int steps, int warmup, ICollective collective)
    {
        var median = Loop(network, classes, batch, steps, warmup, collective, Bf16(mode), SampleRate(mode), mode == SpeedMode.DataParallel);
        return new BenchResult("speed", new Dictionary<string, object>
        {
            ["mode"] = Name(mode), ["network"] = network, ["classes"] = classes, ["batch"] = batch, ["world"] = collective.WorldSize,
            ["rank"] = collective.Rank, ["threads"] = torch.get_num_threads(), ["malloc"] = MallocTuning.Mode,
            ["step_s"] = Math.Round(median, 4), ["samples_per_s"] = Math.Round(batch * collective.WorldSize / median, 2),
            ["peak_rss_mib"] = ProcessMemory.PeakRssBytes() >> 20,
        });
    }

    /// <summary>The training-step loop; returns the median step seconds. <paramref name="afterStep"/> sees the 1-based step number.</summary>
    public static double Loop(string network, long classes, int batch, int steps, int warmup, ICollective collective,
        bool bf16, double sampleRate, bool dp, Action<int>? afterStep = null)
    {
        manual_seed(0);
        int world = collective.WorldSize;
        using var model = BackboneFactory.Create(network, EmbeddingSize, fp16: bf16);
        model.train();
        var parameters = model.parameters().Cast<Tensor>().ToList();
        using var sgd = ParameterOptimizer.Create(OptimizerKind.Sgd, parameters, 5e-4, 0.9);
        using var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        var layout = dp ? new ShardLayout(classes, 1, 0) : new ShardLayout(classes, world, collective.Rank);
        using var shard = new PartialFCShard(layout, EmbeddingSize, margin, new PartialFCOptions(SampleRate: sampleRate));
        using var alone = new SingleRankCollective();
        var fcCollective = dp ? (ICollective)alone : collective;
        var synced = dp ? parameters.Append(shard.Weight).ToList() : parameters;
        var generator = new Generator((ulong)(77 + collective.Rank));
        var images = randn(new long[] { batch, 3, 112, 112 }, generator: generator);

        var times = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            using (var scope = NewDisposeScope())
            {
                var labels = randint(0, classes, new long[] { batch }, generator: generator);
                var sw = Stopwatch.StartNew();
                var embeddings = model.forward(images).to_type(ScalarType.Float32);
                using (var result = shard.ForwardBackward(embeddings, labels, fcCollective))
                    embeddings.backward(new[] { result.EmbeddingGrad });
                if (world > 1) GradientSync.AllReduceAverage(synced, collective, GradientCompression.None, 16 << 20);
                sgd.Step(0.1);
                shard.Step(0.1);
                sgd.ZeroGrad();
                shard.ZeroGrad();
                if (i >= warmup) times.Add(sw.Elapsed.TotalSeconds);
            }
            afterStep?.Invoke(i + 1);
        }
        return BenchResult.Median(times);
    }
}
