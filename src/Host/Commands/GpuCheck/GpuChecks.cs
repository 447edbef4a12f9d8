using System.Diagnostics;
using ActorFace.Model.Backbones;
using ActorFace.Model.Evaluation;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.GpuCheck;

/// <summary>One check's verdict and what it measured.</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>What a short training run measured (check d, and the ActorFace side of check e).</summary>
public sealed record TrainingProbe(IReadOnlyList<float> Losses, double MedianStepSeconds, int Batch, long PeakDeviceBytes)
{
    public double SamplesPerSecond => Batch / MedianStepSeconds;
    public double FirstLosses => Losses.Take(Window).Average();
    public double LastLosses => Losses.TakeLast(Window).Average();
    int Window => Math.Max(1, Math.Min(20, Losses.Count / 4));
    public bool Finite => Losses.All(float.IsFinite);
    public bool Falling => LastLosses < FirstLosses;
}

/// <summary>
/// The checks of `actorface gpu-check` (issue 17 item 5), each comparing a device against the CPU or checking a run
/// on it. Sizes and the device are parameters, so the logic runs at tiny sizes on the CPU in tests; the command runs
/// them at the issue's sizes on CUDA.
/// </summary>
public static class GpuChecks
{
    /// <summary>(a) The same weights embed the same face on <paramref name="device"/> and on the CPU (cosine).</summary>
    public static CheckResult Embedding(string network, string weights, string face, Device device, double minCosine = 0.9999)
    {
        var image = FaceImageLoader.Load(face, null, _ => { });
        float[] Embed(Device d)
        {
            using var model = BackboneFactory.Create(network);
            StateDictFile.Load(model, weights);
            model.to(d);
            using var embedder = new TorchFaceEmbedder(model);
            return embedder.Embed([image])[0];
        }
        var cpu = Embed(CPU);
        var dev = Embed(device);
        double dot = 0, a = 0, b = 0;
        for (var i = 0; i < cpu.Length; i++) { dot += cpu[i] * dev[i]; a += cpu[i] * cpu[i]; b += dev[i] * dev[i]; }
        var cosine = dot / Math.Sqrt(a * b);
        return new CheckResult("a: embedding", cosine > minCosine,
            $"{network} {Path.GetFileName(weights)} on {Path.GetFileName(face)}: cosine {cosine:F7} to the CPU embedding (needs > {minCosine})");
    }

    /// <summary>(b) One Partial FC forward/backward on the device equals the CPU's: same loss, embedding and centre
    /// gradients within float32 tolerance (relative to the largest entry). Both draw the same negatives.</summary>
    public static CheckResult PartialFC(long classes, double sampleRate, int batch, Device device, int embedding = 512, double tolerance = 1e-3)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var embeddings = torch.randn(new long[] { batch, embedding }, generator: g);
        var labels = torch.randint(0, classes, new long[] { batch }, generator: g);
        var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        (float Loss, Tensor Embedding, Tensor Centres) Run(Device d)
        {
            using var random = new TorchSampleRandom(11); // CPU draws for both: the same sampled centres
            using var shard = new PartialFCShard(new ShardLayout(classes, 1, 0), embedding, margin,
                new PartialFCOptions(SampleRate: sampleRate, InitSeed: 5, DeferredUpdate: false, Device: d), random);
            using var r = shard.ForwardBackward(embeddings.to(d), labels.to(d), new SingleRankCollective());
            return (r.Loss, r.EmbeddingGrad.cpu(), shard.CentreGradient()!.cpu());
        }
        var cpu = Run(CPU);
        var dev = Run(device);
        static double RelMax(Tensor x, Tensor y) =>
            (x - y).abs().max().item<float>() / Math.Max(x.abs().max().item<float>(), 1e-30);
        var lossRel = Math.Abs(cpu.Loss - dev.Loss) / Math.Abs(cpu.Loss);
        var embRel = RelMax(cpu.Embedding, dev.Embedding);
        var centreRel = RelMax(cpu.Centres, dev.Centres);
        var ok = lossRel < 1e-5 && embRel < tolerance && centreRel < tolerance;
        return new CheckResult("b: partial fc", ok,
            $"{classes} classes, sample rate {sampleRate}, batch {batch}: loss {cpu.Loss:F5} vs {dev.Loss:F5} (rel {lossRel:E1}), " +
            $"embedding grad rel {embRel:E1}, centre grad rel {centreRel:E1} (tolerance {tolerance:E0})");
    }

    /// <summary>(c) A one-rank all-reduce and all-gather through the backend leave the values as they are.</summary>
    public static CheckResult AllReduce(INcclBackend nccl, Device device)
    {
        if (!nccl.IsAvailable(out var reason)) return new CheckResult("c: nccl all-reduce", false, $"NCCL unavailable: {reason}");
        using var scope = NewDisposeScope();
        using var comm = nccl.Create(0, 1, nccl.CreateUniqueId(), TimeSpan.FromSeconds(60));
        var x = torch.arange(1, 1025, ScalarType.Float32, device);
        var expected = x.cpu();
        comm.AllReduce(x);
        var gathered = comm.AllGather(x);
        var ok = x.cpu().equal(expected).all().item<bool>() && gathered.cpu().equal(expected).all().item<bool>();
        return new CheckResult("c: nccl all-reduce", ok, $"1 rank, 1024 floats on {device}: {(ok ? "unchanged, as it must be" : "values changed")}");
    }

    /// <summary>(d) and the ActorFace half of (e): <paramref name="steps"/> training steps of network + Partial FC
    /// on a cycled pool of random batches (so the loss can fall), in fp16 with the loss scaler or in bf16.</summary>
    public static TrainingProbe Train(string network, long classes, double sampleRate, int batch, int steps, string precision,
        Device device, int pool = 8, int warmup = 20, int imageSize = 112, Func<long>? deviceBytes = null)
    {
        var fp16 = precision == "fp16";
        if (!fp16 && precision != "bf16") throw new ArgumentException($"precision {precision}: use fp16 or bf16");
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var backbone = BackboneFactory.Create(network, 512, 0, fp16);
        backbone.to(device);
        var comm = new SingleRankCollective();
        var shard = new PartialFCShard(new ShardLayout(classes, 1, 0), 512, new CombinedMarginLoss(64, 1.0, 0.5, 0.0),
            new PartialFCOptions(SampleRate: sampleRate, InitSeed: 5, Device: device));
        var options = new RankTrainerOptions
        {
            Lr = 0.1, TotalSteps = steps, Bf16 = !fp16, LossScaling = fp16 ? new GradScalerOptions() : null,
        };
        using var trainer = new RankTrainer(backbone, shard, comm, options);
        var g = new Generator(1);
        var batches = Enumerable.Range(0, pool).Select(_ =>
            (torch.randn(new long[] { batch, 3, imageSize, imageSize }, generator: g), torch.randint(0, classes, new long[] { batch }, generator: g))).ToList();
        var baseline = deviceBytes?.Invoke() ?? 0;
        long peak = 0;
        var losses = new List<float>();
        var times = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            var (x, y) = batches[step % pool];
            var clock = Stopwatch.StartNew();
            using (var stepScope = NewDisposeScope())
            {
                var r = trainer.Step(x.to(device), y.to(device)); // the loss is read back: the step is complete
                losses.Add(r.Loss);
            }
            if (step >= Math.Min(warmup, steps / 2)) times.Add(clock.Elapsed.TotalSeconds);
            if (deviceBytes is not null) peak = Math.Max(peak, deviceBytes() - baseline);
        }
        times.Sort();
        shard.Dispose();
        backbone.Dispose();
        return new TrainingProbe(losses, times[times.Count / 2], batch, peak);
    }

    public static CheckResult TrainingVerdict(string precision, TrainingProbe p, string what) =>
        new($"d: training {precision}", p.Finite && p.Falling,
            $"{what}: loss {p.FirstLosses:F3} (first steps) -> {p.LastLosses:F3} (last), {(p.Finite ? "all finite" : "NOT FINITE")}, " +
            $"{p.SamplesPerSecond:F1} samples/s");
}
