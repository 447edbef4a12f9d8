using ActorFace.Model.Evaluation;
using ActorFace.Tests;
using Xunit.Abstractions;

namespace ActorFace.Model.Tests.Evaluation;

/// <summary>
/// Reproduces the reference figures of data/README.md §5 with the pretrained fr_feature.onnx (RGB, (x−127)/128):
/// celeba-1200pairs.bin 94.58 ± 1.41 (flip) / 93.50 (no-flip) and the per-pair cosines of small_lfw.bin.
/// </summary>
public class RealDataVerificationTests(ITestOutputHelper output)
{
    static readonly OnnxPreprocessing FrFeature = new(Mean: 127f, Std: 128f, Bgr: false);

    const string ModelFile = "data/models/fr_feature.onnx";

    static OnnxFaceEmbedder Model() => new(SharedPaths.Data("models/fr_feature.onnx"), FrFeature);

    [ReferenceFact(ModelFile, "data/small_lfw.bin")]
    public void SmallLfwCosinesMatchReference()
    {
        var set = DecodedVerificationSet.Load(SharedPaths.Data("small_lfw.bin"));
        Assert.Equal(20, set.ImageCount);
        using var model = Model();
        var raw0 = model.Embed(new[] { set.FacesAndMirrors[0] })[0];
        double norm0 = Math.Sqrt(raw0.Sum(v => (double)v * v));
        Assert.Equal(3.0492, norm0, 3e-4);
        Assert.Equal(new[] { 0.13731, 0.05579, 0.17305, 0.12414 }, raw0.Take(4).Select(v => (double)v), Tolerance.Absolute(2e-4));

        var run = VerificationRunner.Run(set, model);
        double[] flip = { 0.5910, 0.8779, 0.7801, 0.7254, 0.7037, 0.5735, 0.7968, 0.4696, 0.5516, 0.8499 };
        double[] noFlip = { 0.5981, 0.8750, 0.7690, 0.7172, 0.6764, 0.5926, 0.7916, 0.4634, 0.5623, 0.8475 };
        output.WriteLine("flip    " + string.Join(" ", run.Result.FlipCosines.Select(c => c.ToString("F4"))));
        output.WriteLine("no-flip " + string.Join(" ", run.Result.NoFlipCosines.Select(c => c.ToString("F4"))));
        Assert.Equal(flip, run.Result.FlipCosines, Tolerance.Absolute(2e-4));
        Assert.Equal(noFlip, run.Result.NoFlipCosines, Tolerance.Absolute(2e-4));
        Assert.Equal(3.45, run.Result.XNorm, 0.01);
    }

    [ReferenceFact(ModelFile, "data/celeba-1200pairs.bin")]
    public void Celeba1200PairsReproducesReferenceAccuracy()
    {
        var set = DecodedVerificationSet.Load(SharedPaths.Data("celeba-1200pairs.bin"));
        Assert.Equal(1200, set.IsSame.Count);
        using var model = Model();
        var run = VerificationRunner.Run(set, model);
        var r = run.Result;
        output.WriteLine($"flip {r.Flip.Accuracy * 100:F2} ± {r.Flip.Std * 100:F2}, no-flip {r.NoFlip.Accuracy * 100:F2} ± {r.NoFlip.Std * 100:F2}, " +
                         $"XNorm {r.XNorm:F3}; {run.ImagesEmbedded} images in {run.EmbeddingTime.TotalSeconds:F1} s ({run.ImagesPerSecond:F0}/s)");
        output.WriteLine("thresholds " + string.Join(" ", r.Flip.FoldThresholds.Select(t => t.ToString("F2"))));
        Assert.Equal(94.58, r.Flip.Accuracy * 100, 0.1);
        Assert.Equal(1.41, r.Flip.Std * 100, 0.1);
        Assert.Equal(93.50, r.NoFlip.Accuracy * 100, 0.1);
        Assert.Equal(3.384, r.XNorm, 0.005);
    }
}
