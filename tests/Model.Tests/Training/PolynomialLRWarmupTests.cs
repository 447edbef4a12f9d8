using ActorFace.Model.Tests.PartialFC;
using ActorFace.Model.Training;
using ActorFace.Tests;

namespace ActorFace.Model.Tests.Training;

public class PolynomialLRWarmupTests
{
    [ReferenceFact("golden/lr_poly_warmup.json")]
    public void MatchesGoldenSequenceWithPowerTwo()
    {
        var g = new GoldenJson("lr_poly_warmup.json");
        var expected = g.Flat("lr_all_0_to_120", out _);
        var s = new PolynomialLRWarmup(g.Number("base_lr"), (int)g.Number("warmup_iters"), (int)g.Number("total_iters"), g.Number("power"));
        var maxRel = 0.0;
        for (var k = 0; k < expected.Length; k++)
        {
            if (k > 0) s.Step();
            Assert.Equal(k, s.LastEpoch);
            var diff = Math.Abs(s.LastLr - expected[k]);
            maxRel = Math.Max(maxRel, diff / Math.Max(expected[k], 1e-300));
            Assert.True(diff <= 1e-15 * Math.Max(expected[k], 1e-3), $"lr at last_epoch {k}: {s.LastLr:R} != {expected[k]:R}");
        }
        Console.WriteLine($"[golden] lr_poly_warmup: max relative diff {maxRel:G3}");
    }

    [Theory]
    [InlineData(0, new[] { 0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0, 0 })]
    [InlineData(3, new[] { 0.1, 0.033333, 0.066667, 0.1, 0.085714, 0.071429, 0.057143, 0.042857, 0.028571, 0.014286, 0, 0 })]
    public void AppendixDSequencesPowerOne(int warmup, double[] lrs)
    {
        var s = new PolynomialLRWarmup(0.1, warmup, 10);
        for (var k = 0; k < lrs.Length; k++)
        {
            Assert.Equal(lrs[k], s.LastLr, 6); // lr used by iteration k+1
            s.Step();
        }
    }

    [Fact]
    public void NegativeWarmupDecaysLinearlyToZero()
    {
        var s = new PolynomialLRWarmup(0.1, -1, 4);
        var seq = new List<double> { s.LastLr };
        for (var i = 0; i < 5; i++) seq.Add(s.Step());
        Assert.Equal(new[] { 0.1, 0.075, 0.05, 0.025, 0.0, 0.0 }, seq.Select(x => Math.Round(x, 12)));
    }

    [Fact]
    public void StateRoundTripContinuesTheSameSequence()
    {
        var a = new PolynomialLRWarmup(0.1, 3, 20, 2);
        for (var i = 0; i < 7; i++) a.Step();
        var b = new PolynomialLRWarmup(0.1, 3, 20, 2);
        b.LoadState(a.GetState());
        for (var i = 0; i < 15; i++) Assert.Equal(a.Step(), b.Step());
        Assert.Throws<InvalidOperationException>(() => new PolynomialLRWarmup(0.2, 3, 20, 2).LoadState(a.GetState()));
    }
}
