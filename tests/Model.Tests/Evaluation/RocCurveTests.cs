using ActorFace.Model.Evaluation;
using ActorFace.Model.Evaluation.Plots;

namespace ActorFace.Model.Tests.Evaluation;

public class RocCurveTests
{
    [Fact]
    public void CollinearPointsAreDroppedLikeSklearn()
    {
        // descending: 0.9 I, 0.8 I, 0.7 I, 0.6 G → (fp,tp) = (1,0) (2,0) (3,0) (3,1); (2,0) is collinear and dropped.
        var roc = RocCurve.Compute(new[] { false, false, false, true }, new[] { 0.9, 0.8, 0.7, 0.6 });
        Assert.Equal(new[] { 0, 1 / 3.0, 1, 1 }, roc.Fpr);
        Assert.Equal(new[] { 0.0, 0, 0, 1 }, roc.Tpr);
        Assert.Equal(new[] { double.PositiveInfinity, 0.9, 0.7, 0.6 }, roc.Thresholds);
    }

    [Fact]
    public void TiedScoresFormOnePointAndTarPicksClosestFprWithLargerTpr()
    {
        // scores: G 0.9, G 0.9, I 0.9, G 0.5, I 0.1 ×3 → points (0,0) (1/4, 2/3) (1/4, 1) (1, 1)
        var genuine = new[] { true, true, false, true, false, false, false };
        var roc = RocCurve.Compute(genuine, new[] { 0.9, 0.9, 0.9, 0.5, 0.1, 0.1, 0.1 });
        Assert.Equal(new[] { 0, 0.25, 0.25, 1 }, roc.Fpr);
        Assert.Equal(new[] { 0, 2 / 3.0, 1, 1 }, roc.Tpr);
        Assert.Equal(0.0, roc.TarAt(1e-3));   // closest is fpr 0
        Assert.Equal(1.0, roc.TarAt(0.2));    // fpr 0.25 twice: the larger tpr wins
    }

    [Fact]
    public void NoImpostorsIsAClearError() =>
        Assert.Contains("impostor", Assert.Throws<ArgumentException>(() => RocCurve.Compute(new[] { true }, new[] { 0.5 })).Message);
}
