using ActorFace.Model.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Losses;

public class MarginLossTests
{
    static Tensor Cos() => tensor(new float[] { 0.9f, 0.6f, -0.95f, 0.2f, 0.45f, -0.3f, 0.1f, 0.7f, 0.3f }, new long[] { 3, 3 });

    [Fact]
    public void ArcFaceValuesAndStraightThroughGradient()
    {
        using var scope = NewDisposeScope();
        var cos = Cos().requires_grad_(true);
        var labels = tensor(new long[] { 0, -1, 2 });
        var z = new CombinedMarginLoss(64, 1.0, 0.5, 0.0).forward(cos, labels);
        var c = Cos().to_type(ScalarType.Float64);
        // Target: s·cos(acos(c)+m); others s·cos(acos(c)) (a few ulps from s·c); -1 row has no target.
        Assert.Equal(64 * Math.Cos(Math.Acos(0.9) + 0.5), z[0, 0].item<float>(), 3);
        Assert.Equal(64 * Math.Cos(Math.Acos(0.3) + 0.5), z[2, 2].item<float>(), 3);
        Assert.Equal(64 * 0.2, z[1, 0].item<float>(), 3);
        Assert.Equal(64 * -0.95, z[0, 2].item<float>(), 3);
        var upstream = torch.arange(1, 10, ScalarType.Float32).reshape(3, 3);
        z.backward(new[] { upstream });
        Assert.Equal((upstream * 64).data<float>().ToArray(), cos.grad!.data<float>().ToArray());
        _ = c;
    }

    [Fact]
    public void ArcFaceHasNoEasyMarginFallbackBeyondPi()
    {
        using var scope = NewDisposeScope();
        // c = -0.95 at the target: θ+m = 3.3240 rad > π, reference keeps cos(θ+m) = -0.98340.
        var z = new ArcFace(64, 0.5).forward(tensor(new float[] { -0.95f, 0.1f }, new long[] { 1, 2 }), tensor(new long[] { 0 }));
        Assert.Equal(-0.98340 * 64, z[0, 0].item<float>(), 2);
    }

    [Fact]
    public void CosFaceSubtractsMarginAtTargetAndIgnoresM2()
    {
        using var scope = NewDisposeScope();
        var cos = Cos().requires_grad_(true);
        var labels = tensor(new long[] { 1, 0, -1 });
        var z = new CombinedMarginLoss(64, 1.0, 0.3, 0.4).forward(cos, labels);
        Assert.Equal(MarginKind.CosFace, new CombinedMarginLoss(64, 1.0, 0.3, 0.4).Kind);
        var expected = Cos() * 64;
        expected[0, 1] = tensor(64 * (0.6f - 0.4f));
        expected[1, 0] = tensor(64 * (0.2f - 0.4f));
        Assert.True(expected.allclose(z, 1e-6, 1e-5));
        z.sum().backward();
        Assert.True(cos.grad!.eq(64).all().item<bool>());
        var standalone = new CosFace(64, 0.4).forward(Cos(), labels);
        Assert.True(standalone.eq(z.detach()).all().item<bool>());
    }

    [Theory]
    [InlineData(1.0, 0.5, 0.0, MarginKind.ArcFace)]
    [InlineData(1.0, 0.0, 0.0, MarginKind.ArcFace)]
    [InlineData(0.9, 0.5, 0.4, MarginKind.CosFace)]
    public void BranchPrecedence(double m1, double m2, double m3, MarginKind kind) =>
        Assert.Equal(kind, new CombinedMarginLoss(64, m1, m2, m3).Kind);

    [Fact]
    public void UnsupportedMarginTripleIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CombinedMarginLoss(64, 0.9, 0.5, 0.0));
        Assert.Contains("m1=0.9", ex.Message);
    }

    [Fact]
    public void LabelsOutOfRangeAreRejected()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new ArcFace().forward(Cos(), tensor(new long[] { 0, 3, 1 })));
        Assert.Contains("[-1, 3)", ex.Message);
    }

    [Fact]
    public void FilteringZeroesNonTargetEntriesAboveThresholdWithZeroGradient()
    {
        using var scope = NewDisposeScope();
        var cos = Cos().requires_grad_(true);
        var labels = tensor(new long[] { 0, -1, 2 });
        var arc = new CombinedMarginLoss(64, 1.0, 0.5, 0.0, 0.4).forward(cos, labels);
        // Row 0: 0.6 > 0.4 filtered (target 0.9 kept); row 1 (-1): 0.45 filtered; row 2: 0.7 filtered.
        var filtered = new[] { (0, 1), (1, 1), (2, 1) };
        foreach (var (r, c) in filtered) Assert.InRange(arc[r, c].item<float>(), -3e-6f, 0f); // s·cos(float π/2) ≈ -2.8e-6
        Assert.Equal(64 * Math.Cos(Math.Acos(0.3) + 0.5), arc[2, 2].item<float>(), 3); // target never filtered
        arc.sum().backward();
        foreach (var (r, c) in filtered) Assert.Equal(0f, cos.grad![r, c].item<float>());
        Assert.Equal(64f, cos.grad![0, 0].item<float>());

        var cosf = new CombinedMarginLoss(64, 1.0, 0.0, 0.4, 0.4).forward(Cos(), labels);
        foreach (var (r, c) in filtered) Assert.Equal(0f, cosf[r, c].item<float>());
    }
}
