using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>Spec Appendix D: B = 3, D = 4, C = 5 on one rank.</summary>
public class AppendixDTests
{
    static Tensor E() => tensor(new float[] { 1.0f, 2.0f, 0.5f, -1.0f, 0.0f, -1.0f, 1.0f, 2.0f, 3.0f, 0.0f, -1.0f, 0.5f }, new long[] { 3, 4 });
    static Tensor Labels() => tensor(new long[] { 2, 0, 4 });
    static Tensor Wc() => tensor(new float[] { 0.5f, -0.2f, 0.1f, 0.9f, 0.3f, 0.8f, -0.5f, 0.0f, 0.7f, 0.6f, 0.2f, -0.4f, -0.1f, 0.2f, 0.9f, 0.3f, 0.8f, -0.3f, -0.6f, 0.2f }, new long[] { 5, 4 });

    static (PartialFCResult Result, PartialFCShard Shard) Run(double m2, double m3, double tau = 0, double sampleRate = 1)
    {
        var margin = new CombinedMarginLoss(64, 1.0, m2, m3, tau);
        var shard = new PartialFCShard(new ShardLayout(5, 1, 0), 4, margin, new PartialFCOptions(SampleRate: sampleRate), initialWeight: Wc());
        return (shard.ForwardBackward(E(), Labels(), new SingleRankCollective()), shard);
    }

    [Fact]
    public void ArcFace()
    {
        using var scope = NewDisposeScope();
        var (r, shard) = Run(0.5, 0);
        using var _ = shard;
        Assert.Equal(2.724946, r.Loss, 5);
        TensorAssert.Close(tensor(new float[] { -1.591297f, 2.566447f, -3.780375f, 1.651409f, -5.022129f, 2.480862f, 8.164982f, -2.842060f, 0.022495f, 0.047009f, 0.137166f, 0.139363f }, new long[] { 3, 4 }),
            r.EmbeddingGrad, 1e-4, 2e-6, "appendix D ArcFace dL/dE");
        TensorAssert.Close(tensor(new float[] { 8.254638f, 5.201893f, -6.934467f, -2.659437f, 2.925123f, 3.858892f, 7.929302f, -5.909223f, 3.481825f, -3.617871f, -0.284703f, 0.524045f, 1.221622f, -11.370484f, -2.067361f, 14.189611f, -0.186566f, -0.190666f, -0.149662f, 0.011276f }, new long[] { 5, 4 }),
            shard.CentreGradient()!, 1e-4, 2e-6, "appendix D ArcFace dL/dWc");
    }

    [Fact]
    public void CosFace()
    {
        using var scope = NewDisposeScope();
        var (r, shard) = Run(0, 0.4);
        using var _ = shard;
        Assert.Equal(6.432202, r.Loss, 5);
        TensorAssert.Close(tensor(new float[] { -2.320657f, 3.742760f, -5.513084f, 2.408322f, -5.025640f, 2.482596f, 8.170690f, -2.844047f, 0.564204f, 1.179068f, 3.440330f, 3.495437f }, new long[] { 3, 4 }),
            r.EmbeddingGrad, 1e-4, 2e-6, "appendix D CosFace dL/dE");
        TensorAssert.Close(tensor(new float[] { 18.910156f, 6.843953f, -12.673796f, -7.576566f, 4.280080f, 5.621261f, 11.562063f, -8.614906f, 6.411182f, -5.970054f, -1.360880f, 1.584060f, 1.222476f, -11.378431f, -2.068806f, 14.199530f, -4.679352f, -4.782194f, -3.753764f, 0.282817f }, new long[] { 5, 4 }),
            shard.CentreGradient()!, 1e-4, 2e-6, "appendix D CosFace dL/dWc");
    }

    [Fact]
    public void ArcFaceWithInterclassFiltering()
    {
        using var scope = NewDisposeScope();
        var (r, shard) = Run(0.5, 0, tau: 0.5);
        using var _ = shard;
        Assert.Equal(0.000012, r.Loss, 6);
        var g = shard.CentreGradient()!;
        TensorAssert.Close(tensor(new float[] { 0.000626f, -0.000278f, -0.000070f, 0.000122f }), g[1], 0, 1e-6, "appendix D filter row 1");
        TensorAssert.Close(tensor(new float[] { -0.000182f, -0.000186f, -0.000146f, 0.000011f }), g[4], 0, 1e-6, "appendix D filter row 4");
        foreach (var row in new[] { 0, 2, 3 }) Assert.True(g[row].abs().max().item<float>() < 5e-7f);
    }

    [Fact]
    public void CosFaceWithFilteringHasNoLossAndNoGradient()
    {
        using var scope = NewDisposeScope();
        var (r, shard) = Run(0, 0.4, tau: 0.4);
        using var _ = shard;
        Assert.Equal(0.0, r.Loss, 6);
        Assert.True(shard.CentreGradient()!.abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void ArcFaceWithSampleRate06KeepsThePositives()
    {
        using var scope = NewDisposeScope();
        var (r, shard) = Run(0.5, 0, sampleRate: 0.6);
        using var _ = shard;
        Assert.Equal(new long[] { 0, 2, 4 }, shard.LastIndex!.data<long>().ToArray());
        Assert.Equal(0.012541, r.Loss, 6);
        var g = shard.CentreGradient()!;
        Assert.Equal(0f, g[1].abs().max().item<float>());
        Assert.Equal(0f, g[3].abs().max().item<float>());
        TensorAssert.Close(tensor(new float[] { 0.442266f, 0.068041f, -0.238143f, -0.204123f }), g[0], 1e-4, 2e-6, "appendix D sr0.6 row 0");
        TensorAssert.Close(tensor(new float[] { 0.056450f, -0.029377f, -0.040034f, 0.034705f }), g[2], 1e-4, 2e-6, "appendix D sr0.6 row 2");
        TensorAssert.Close(tensor(new float[] { -0.186397f, -0.190493f, -0.149527f, 0.011266f }), g[4], 1e-4, 2e-6, "appendix D sr0.6 row 4");
    }

    [Fact]
    public void LabelsOutsideEveryShardCostTheCapAndOnlyPushLogitsDown()
    {
        using var scope = NewDisposeScope();
        var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        using var shard = new PartialFCShard(new ShardLayout(5, 1, 0), 4, margin, new PartialFCOptions(), initialWeight: Wc());
        using var r = shard.ForwardBackward(E(), tensor(new long[] { 7, 7, 7 }), new SingleRankCollective());
        Assert.Equal(DistributedSoftmaxCrossEntropy.LossCap, r.Loss, 4);
    }

    [Fact]
    public void StraightThroughRatioIsScaleForBothBranches()
    {
        using var scope = NewDisposeScope();
        var cos = torch.rand(new long[] { 4, 6 }, generator: new Generator(3)).mul_(2).sub_(1);
        var labels = tensor(new long[] { 1, -1, 5, 0 });
        var upstream = torch.randn(new long[] { 4, 6 }, generator: new Generator(4));
        foreach (var m in new[] { new CombinedMarginLoss(64, 1, 0.5, 0), new CombinedMarginLoss(64, 1, 0, 0.4) })
        {
            var x = cos.clone().requires_grad_(true);
            m.forward(x, labels).backward(new[] { upstream });
            Assert.True(x.grad!.eq(upstream * 64).all().item<bool>());
        }
    }
}
