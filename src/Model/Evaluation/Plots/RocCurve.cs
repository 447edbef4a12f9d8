namespace ActorFace.Model.Evaluation.Plots;

/// <summary>
/// scikit-learn's roc_curve(y_true, y_score) with drop_intermediate=True, and eval_ijbc.py's TAR@FAR pick
/// (closest FPR, ties to the larger TPR, no interpolation), spec §6.4.
/// </summary>
public sealed record RocCurve(double[] Fpr, double[] Tpr, double[] Thresholds)
{
    public static readonly double[] StandardFars = { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1 };

    /// <summary>Python's str() of the standard FAR values, used as the table headers.</summary>
    public static readonly string[] StandardFarLabels = { "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1" };

    public static RocCurve Compute(IReadOnlyList<bool> genuine, IReadOnlyList<double> scores)
    {
        int n = scores.Count;
        if (n != genuine.Count) throw new ArgumentException($"{n} scores for {genuine.Count} labels");
        if (n == 0) throw new ArgumentException("no pairs to score");
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(scores[i])) throw new ArgumentException($"score of pair {i} is {scores[i]}");
        var order = Enumerable.Range(0, n).ToArray();
        var keys = order.Select(i => -scores[i]).ToArray();
        Array.Sort(keys, order); // descending score; the order within ties does not change the counts below

        var fps = new List<long>(); var tps = new List<long>(); var thr = new List<double>();
        long tp = 0;
        for (int i = 0; i < n; i++)
        {
            if (genuine[order[i]]) tp++;
            if (i == n - 1 || scores[order[i]] != scores[order[i + 1]])
            {
                tps.Add(tp); fps.Add(i + 1 - tp); thr.Add(scores[order[i]]);
            }
        }
        var keep = new List<int>();
        for (int i = 0; i < fps.Count; i++)
        {
            bool interior = fps.Count > 2 && i > 0 && i < fps.Count - 1;
            if (!interior || fps[i - 1] - 2 * fps[i] + fps[i + 1] != 0 || tps[i - 1] - 2 * tps[i] + tps[i + 1] != 0) keep.Add(i);
        }
        double fpTotal = fps[^1], tpTotal = tps[^1];
        if (fpTotal == 0) throw new ArgumentException("no impostor pairs: the false positive rate is undefined");
        if (tpTotal == 0) throw new ArgumentException("no genuine pairs: the true positive rate is undefined");
        var fpr = new[] { 0.0 }.Concat(keep.Select(i => fps[i] / fpTotal)).ToArray();
        var tpr = new[] { 0.0 }.Concat(keep.Select(i => tps[i] / tpTotal)).ToArray();
        var thresholds = new[] { double.PositiveInfinity }.Concat(keep.Select(i => thr[i])).ToArray();
        return new RocCurve(fpr, tpr, thresholds);
    }

    /// <summary>TPR at the ROC point whose FPR is closest to <paramref name="far"/>; ties go to the later point.</summary>
    public double TarAt(double far)
    {
        int best = Fpr.Length - 1;
        double bestDiff = Math.Abs(Fpr[best] - far);
        for (int i = Fpr.Length - 2; i >= 0; i--)
        {
            double d = Math.Abs(Fpr[i] - far);
            if (d < bestDiff) { bestDiff = d; best = i; }
        }
        return Tpr[best];
    }

    /// <summary>Trapezoidal area under the curve (sklearn.metrics.auc).</summary>
    public double Auc()
    {
        double a = 0;
        for (int i = 1; i < Fpr.Length; i++) a += (Fpr[i] - Fpr[i - 1]) * (Tpr[i] + Tpr[i - 1]) / 2;
        return a;
    }
}
