using System.Text.Json;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Tests.Data;
using ActorFace.Model.Training;
using ActorFace.Tests;
using Xunit.Abstractions;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training.StepParity;

/// <summary>
/// Whole training steps against arcface_torch (issue #20 item 1): from the same weights, real batch, centres and
/// sampling draws, after 1 and 10 steps every backbone state_dict entry, every momentum buffer and the Partial FC
/// centres equal what train_v2.py's loop computes with arcface_torch's own modules (expected/*.json, written by
/// tools/step_parity.py from its float64 run, the exact result) within 1e-5 relative, or within 64x PyTorch's own
/// float32 error (recorded per tensor) where float32 cannot do better: from-scratch training is chaotic, and some
/// gradients of PyTorch's own float32 run are 1e-2 from float64 after one step. Measured: ActorFace's float32 error is
/// at most 32x PyTorch 1.13's (mbf's 14x14 stage after one step; elsewhere below 8x), while a 10 % change of weight
/// decay, clip norm or momentum exceeds the tolerance 120-420 fold (docs/accuracy.md). This covers what the part goldens do not:
/// optimiser groups, weight decay on every parameter kind (BN, PReLU, biases), clipping norm and order, the
/// schedule's step, momentum, BN running statistics in training mode, and the deferred update of unsampled centres
/// (sample rate 0.5).
/// </summary>
public class StepParityTests(ITestOutputHelper output)
{
    /// <summary>
    /// 1e-5 where float32 can reach it; else this multiple of PyTorch float32's own distance from float64. PyTorch's
    /// float32 run is NCHW, and so is the strict case. A channels-last trunk (the default where oneDNN has AVX-512) sums
    /// its convolution and batch-norm reductions in another order: after one step that alone puts mbf's last batch-norm
    /// bias gradient (a sum that cancels to almost nothing, since the embedding's own batch norm follows) at up to ~1,300x
    /// PyTorch's error and r18's first running mean at ~400x; after ten steps every tensor of both layouts is within
    /// 64x. The wider factor still leaves a 10 % change of a hyperparameter 4-13x outside.
    /// </summary>
    const double Tolerance = 1e-5, NoiseFactor = 64, ChannelsLastNoiseFactor = 2048;

    public static TheoryData<string, string, double, bool> Cases()
    {
        var data = new TheoryData<string, string, double, bool>();
        foreach (var network in new[] { "mbf", "r18" })
            foreach (var margin in new[] { "cosface", "arcface" })
                foreach (var sr in new[] { 1.0, 0.5 })
                    foreach (var channelsLast in new[] { false, true })
                        data.Add(network, margin, sr, channelsLast);
        return data;
    }

    [ReferenceTheory("data/celeba-subset-112")]
    [MemberData(nameof(Cases))]
    public void StepsEqualArcfaceTorch(string network, string margin, double sampleRate, bool channelsLast)
    {
        var c = new StepParityCase(network, margin, sampleRate);
        using var scope = NewDisposeScope();
        var batches = StepParityCase.RealBatches();
        var backbone = c.Backbone();
        switch (backbone)
        {
            case IResNet resnet: resnet.ChannelsLastInTraining = channelsLast; break;
            case MobileFaceNet mobile: mobile.ChannelsLastInTraining = channelsLast; break;
        }
        var noiseFactor = channelsLast ? ChannelsLastNoiseFactor : NoiseFactor;
        var expectedPath = Path.Combine(ArcfaceTorchReference.ExpectedFolder, c.Name + ".json");
        if (ArcfaceTorchReference.Regenerate)
        {
            using var dir = new TempDirectory("actorface-data-");
            c.WriteInputs(dir.Path, backbone, batches);
            ArcfaceTorchReference.Run(expectedPath, "--inputs", dir.Path);
        }
        if (Environment.GetEnvironmentVariable("ACTORFACE_STEP_PARITY_INPUTS") is { Length: > 0 } keep)
            c.WriteInputs(Path.Combine(keep, c.Name), backbone, batches);
        var expected = JsonDocument.Parse(File.ReadAllText(expectedPath)).RootElement.GetProperty("steps");

        var m = c.MarginList;
        var shard = new PartialFCShard(new ShardLayout(StepParityCase.Classes, 1, 0), StepParityCase.EmbeddingSize,
            new CombinedMarginLoss(64, m[0], m[1], m[2]), new PartialFCOptions(SampleRate: sampleRate, WeightDecay: StepParityCase.WeightDecay),
            new ReplaySampleRandom(StepParityCase.Draws()), StepParityCase.Centres());
        var options = new RankTrainerOptions
        {
            Lr = StepParityCase.Lr, WeightDecay = StepParityCase.WeightDecay, WarmupSteps = StepParityCase.WarmupSteps,
            TotalSteps = StepParityCase.TotalSteps, Compression = GradientCompression.None,
        };
        using var trainer = new RankTrainer(backbone, shard, new SingleRankCollective(), options);
        var failures = new List<string>();
        for (var step = 1; step <= StepParityCase.Steps; step++)
        {
            var (images, labels) = batches[(step - 1) % batches.Length];
            var result = trainer.Step(images, labels);
            if (!StepParityCase.ReportSteps.Contains(step)) continue;

            var reference = expected.GetProperty(step.ToString());
            var (exact, strict, total, worst) = Compare(Snapshot(backbone, trainer), reference.GetProperty("tensors"), failures, step, noiseFactor);
            double loss64 = reference.GetProperty("loss").GetDouble(), loss32 = reference.GetProperty("loss_float32").GetDouble();
            var lossError = Math.Abs(result.Loss - loss64) / Math.Abs(loss64);
            if (lossError > Math.Max(Tolerance, noiseFactor * Math.Abs(loss32 - loss64) / Math.Abs(loss64)))
                failures.Add($"step {step}: loss {result.Loss} vs {loss64} (PyTorch float32: {loss32})");
            // The reference file keeps 9 significant digits.
            var lr = reference.GetProperty("lr").GetDouble();
            if (Math.Abs(result.Lr - lr) > 1e-8 * lr) failures.Add($"step {step}: lr {result.Lr} vs {lr}");
            output.WriteLine($"[step-parity] {c.Name}{(channelsLast ? " channels-last" : "")} step {step}: loss {result.Loss:F6} vs {loss64:F6} (PyTorch float32 {loss32:F6}); " +
                             $"{strict}/{total} tensors within {Tolerance:E0}, {exact}/{total} within their tolerance; largest error/tolerance {worst.Ratio:F2} ({worst.Name})");
        }
        shard.Dispose();
        Assert.True(failures.Count == 0, $"{c.Name}: {failures.Count} differences above {Tolerance:E0}:\n" + string.Join("\n", failures.Take(20)));
    }

    /// <summary>The names tools/step_parity.py uses: backbone.KEY, momentum.backbone.KEY, partial_fc.weight, momentum.partial_fc.weight.</summary>
    static Dictionary<string, Fingerprint> Snapshot(nn.Module<Tensor, Tensor> backbone, RankTrainer trainer)
    {
        trainer.PartialFC.Synchronize();
        var result = new Dictionary<string, Fingerprint>();
        var entries = StateDictEntries.Of(backbone);
        foreach (var e in entries) result["backbone." + e.Key] = Fingerprint.Of(e.Tensor);
        var optimizer = (SgdOptimizer)trainer.Optimizer;
        var trainable = trainer.TrainableParameters;
        foreach (var e in entries.Where(e => e.IsParameter))
        {
            var index = Enumerable.Range(0, trainable.Count).FirstOrDefault(i => trainable[i].Handle == e.Tensor.Handle, -1);
            if (index >= 0) result["momentum.backbone." + e.Key] = Fingerprint.Of(optimizer.MomentumBuffer(index));
        }
        result["partial_fc.weight"] = Fingerprint.Of(trainer.PartialFC.Weight);
        result["momentum.partial_fc.weight"] = Fingerprint.Of(((SgdOptimizer)trainer.PartialFC.Optimizer).MomentumBuffer(0));
        return result;
    }

    static (int Within, int Strict, int Total, (string Name, double Ratio) Worst) Compare(
        Dictionary<string, Fingerprint> actual, JsonElement expected, List<string> failures, int step, double noiseFactor)
    {
        var worst = ("", 0.0);
        var (within, strict) = (0, 0);
        var expectedNames = expected.EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var missing in expectedNames.Except(actual.Keys)) failures.Add($"step {step}: {missing} missing here");
        foreach (var extra in actual.Keys.Except(expectedNames)) failures.Add($"step {step}: {extra} not in the reference");
        foreach (var name in expectedNames.Intersect(actual.Keys))
        {
            var reference = Fingerprint.FromJson(expected.GetProperty(name));
            var error = actual[name].RelativeError(reference);
            var tolerance = Math.Max(Tolerance, noiseFactor * reference.Noise);
            if (error <= Tolerance) strict++;
            if (error <= tolerance) within++;
            else failures.Add($"step {step}: {name} relative error {error:E2} > {tolerance:E2} (PyTorch float32's: {reference.Noise:E2})");
            if (!(error / tolerance <= worst.Item2)) worst = (name, error / tolerance);
        }
        return (within, strict, expectedNames.Count, worst);
    }
}
