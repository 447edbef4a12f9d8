using ActorFace.Model.Evaluation;

namespace ActorFace.Model.Tests.Evaluation;

public class VerificationProtocolTests
{
    [Fact]
    public void FoldsAreContiguousWithRemainderOnTheFirst()
    {
        var folds = VerificationProtocol.Folds(1205, 10);
        Assert.Equal(new[] { 121, 121, 121, 121, 121, 120, 120, 120, 120, 120 }, folds.Select(f => f.Count));
        Assert.Equal(0, folds[0].Start);
        Assert.Equal(121 * 5, folds[5].Start);
    }

    [Fact]
    public void OneWrongPairInOneFoldGivesHandComputedMeanAndPopulationStd()
    {
        // 20 pairs, 10 folds of 2 (same, different). Same pairs at d=0.5, different at d=1.5; pair 6 (fold 3) is a
        // same pair at d=2.0 that no threshold gets right. Training accuracy is maximal for T in 0.51…1.50; the first
        // best is 0.51. Fold accuracies: nine 1.0 and one 0.5 → mean 0.95, population std sqrt(0.0225) = 0.15.
        var isSame = Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray();
        var d = isSame.Select(s => s ? 0.5 : 1.5).ToArray();
        d[6] = 2.0;
        var r = VerificationProtocol.CalculateRoc(d, isSame);
        Assert.All(r.FoldThresholds, t => Assert.Equal(VerificationProtocol.Thresholds[51], t));
        Assert.Equal(new[] { 1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1 }, r.FoldAccuracies);
        Assert.Equal(0.95, r.Accuracy, 12);
        Assert.Equal(0.15, r.Std, 12);
        Assert.Equal(19.0 / 20, r.BestThresholdAccuracy);
    }

    [Fact]
    public void ThresholdComparisonIsStrict()
    {
        // same pairs exactly at d = 1.00 are "different" under T = 1.00, so the first best threshold is 1.01
        var isSame = Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray();
        var d = isSame.Select(s => s ? 1.0 : 1.2).ToArray();
        var r = VerificationProtocol.CalculateRoc(d, isSame);
        Assert.All(r.FoldThresholds, t => Assert.Equal(VerificationProtocol.Thresholds[101], t));
        Assert.Equal(1.0, r.Accuracy);
        Assert.Equal(0.0, r.Std);
    }

    [Fact]
    public void NaNEmbeddingsScoreExactlyHalf()
    {
        var isSame = Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray();
        var nan = Enumerable.Range(0, 40).Select(_ => new[] { double.NaN, 1.0 }).ToArray();
        var r = VerificationProtocol.Evaluate("nan", nan, nan, isSame);
        Assert.Equal(0.5, r.Flip.Accuracy);
        Assert.Equal(0.0, r.Flip.Std);
    }

    [Fact]
    public void FlipSumAddsRawEmbeddingsBeforeNormalising()
    {
        // pair 0: originals (3,0)/(0,1), mirrors (0,1)/(3,0) → flip-sums (3,1),(3,1): identical, cosine 1.
        // No-flip cosine is 0. XNorm = mean of the raw norms = (3+1+1+3)/4 = 2 for pair 0, same for pair 1.
        var emb0 = new[] { new[] { 3.0, 0 }, new[] { 0.0, 1 }, new[] { 3.0, 0 }, new[] { 0.0, 1 } };
        var emb1 = new[] { new[] { 0.0, 1 }, new[] { 3.0, 0 }, new[] { 0.0, 1 }, new[] { 3.0, 0 } };
        var isSame = new[] { true, true };
        var pairs = Enumerable.Repeat(emb0, 10).SelectMany(x => x).ToArray();
        var pairs1 = Enumerable.Repeat(emb1, 10).SelectMany(x => x).ToArray();
        var r = VerificationProtocol.Evaluate("t", pairs, pairs1, Enumerable.Repeat(isSame, 10).SelectMany(x => x).ToArray());
        Assert.Equal(2.0, r.XNorm, 12);
        Assert.All(r.FlipCosines, c => Assert.Equal(1.0, c, 12));
        Assert.All(r.NoFlipCosines, c => Assert.Equal(0.0, c, 12));
        Assert.Equal(1.0, r.Flip.Accuracy);
    }

    [Fact]
    public void LogLinesFollowArcfaceTorch()
    {
        var isSame = Enumerable.Range(0, 20).Select(i => i % 2 == 0).ToArray();
        var emb = Enumerable.Range(0, 40).Select(i => new[] { 3.0, i % 4 == 3 ? 1.0 : 0.0 }).ToArray();
        var r = VerificationProtocol.Evaluate("lfw", emb, emb, isSame);
        var lines = VerificationLog.Lines("lfw", 2000, r, 0.99);
        Assert.Equal($"[lfw][2000]XNorm: {r.XNorm:F6}", lines[0]);
        Assert.Matches(@"^\[lfw\]\[2000\]Accuracy-Flip: \d\.\d{5}\+-\d\.\d{5}$", lines[1]);
        Assert.Equal("[lfw][2000]Accuracy-Highest: 0.99000", lines[2]);
    }
}
