namespace ActorFace.Model.Evaluation.Plots;

/// <summary>ROC (mean fold TPR vs FPR) and accuracy-vs-threshold panels for one or more verification results.</summary>
public static class VerificationPlots
{
    public static void Save(string path, IReadOnlyList<VerificationResult> results)
    {
        var roc = new LineChart { Title = "ROC (flip-sum, mean of 10 folds)", XLabel = "false accept rate", YLabel = "true accept rate" };
        var acc = new LineChart
        {
            Title = "Accuracy vs threshold (flip-sum, all pairs)", XLabel = "squared L2 distance threshold", YLabel = "accuracy",
            XRange = (0, 4), YRange = (0.4, 1),
        };
        foreach (var r in results)
        {
            roc.Series.Add(new ChartSeries($"{r.Name} {r.Flip.Accuracy * 100:F2}%", r.Flip.MeanFpr, r.Flip.MeanTpr));
            acc.Series.Add(new ChartSeries($"{r.Name} best {r.Flip.BestThreshold:F2}", VerificationProtocol.Thresholds, r.Flip.AccuracyPerThreshold));
        }
        LineChart.SavePng(path, 600, 480, roc, acc);
    }
}
