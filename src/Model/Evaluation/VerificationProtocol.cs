namespace ActorFace.Model.Evaluation;

/// <summary>10-fold result of one embedding variant (flip-sum or no-flip), spec §6.3.</summary>
public sealed record FoldedAccuracy(
    double Accuracy, double Std, double[] FoldAccuracies, double[] FoldThresholds,
    double[] MeanTpr, double[] MeanFpr, double[] AccuracyPerThreshold, double BestThreshold, double BestThresholdAccuracy);

/// <summary>Everything one verification run measures.</summary>
public sealed record VerificationResult(
    string Name, int Pairs, double XNorm, FoldedAccuracy Flip, FoldedAccuracy NoFlip, double[] FlipCosines, double[] NoFlipCosines)
{
    public double[] Thresholds => VerificationProtocol.Thresholds;
}

/// <summary>
/// The InsightFace verification protocol (spec §6.3): flip-sum embeddings in float64, L2 normalise, squared L2
/// distance, thresholds 0.00…3.99 with strict `d &lt; T`, 10 contiguous folds, threshold chosen on the other nine
/// (first best), mean ± population std.
/// </summary>
public static class VerificationProtocol
{
    /// <summary>np.arange(0, 4, 0.01): k·0.01 in float64.</summary>
    public static readonly double[] Thresholds = Enumerable.Range(0, 400).Select(k => k * 0.01).ToArray();

    /// <summary>InsightFace's nrof_folds.</summary>
    public const int DefaultFolds = 10;

    public static VerificationResult Evaluate(string name, double[][] emb0, double[][] emb1, IReadOnlyList<bool> isSame, int folds = 10)
    {
        if (emb0.Length != 2 * isSame.Count || emb1.Length != emb0.Length)
            throw new ArgumentException($"{name}: {emb0.Length}/{emb1.Length} embeddings for {isSame.Count} pairs");
        double xnorm = emb0.Concat(emb1).Select(Norm).Average();
        var flip = Normalize(emb0.Select((e, i) => Add(e, emb1[i])).ToArray());
        var noFlip = Normalize(emb0);
        return new VerificationResult(name, isSame.Count, xnorm,
            CalculateRoc(PairDistances(flip), isSame, folds), CalculateRoc(PairDistances(noFlip), isSame, folds),
            PairCosines(flip), PairCosines(noFlip));
    }

    /// <summary>sklearn.preprocessing.normalize: rows with zero norm stay zero.</summary>
    public static double[][] Normalize(double[][] rows) => rows.Select(r =>
    {
        double n = Norm(r);
        return n == 0 ? (double[])r.Clone() : r.Select(v => v / n).ToArray();
    }).ToArray();

    public static double[] PairDistances(double[][] e)
    {
        var d = new double[e.Length / 2];
        for (int i = 0; i < d.Length; i++)
        {
            double s = 0;
            var a = e[2 * i]; var b = e[2 * i + 1];
            for (int k = 0; k < a.Length; k++) { double t = a[k] - b[k]; s += t * t; }
            d[i] = s;
        }
        return d;
    }

    static double[] PairCosines(double[][] e) =>
        Enumerable.Range(0, e.Length / 2).Select(i => e[2 * i].Zip(e[2 * i + 1], (x, y) => x * y).Sum()).ToArray();

    /// <summary>scikit-learn KFold(n_splits, shuffle=False): contiguous blocks, the first n mod k folds one larger.</summary>
    public static (int Start, int Count)[] Folds(int count, int folds)
    {
        if (folds < 2 || count < folds) throw new ArgumentException($"cannot split {count} pairs into {folds} folds");
        var result = new (int, int)[folds];
        int start = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = count / folds + (f < count % folds ? 1 : 0);
            result[f] = (start, size);
            start += size;
        }
        return result;
    }

    /// <summary>insightface verification.calculate_roc with thresholds 0…3.99.</summary>
    public static FoldedAccuracy CalculateRoc(double[] distances, IReadOnlyList<bool> isSame, int folds = 10)
    {
        int n = distances.Length, t = Thresholds.Length;
        var foldOf = new int[n];
        var split = Folds(n, folds);
        for (int f = 0; f < folds; f++) for (int i = 0; i < split[f].Count; i++) foldOf[split[f].Start + i] = f;

        // correct[f, k]: pairs of fold f classified right at threshold k; tp/fp/p/negatives per fold for the ROC.
        var correct = new int[folds, t];
        var tp = new int[folds, t]; var fp = new int[folds, t];
        var pos = new int[folds]; var neg = new int[folds];
        for (int i = 0; i < n; i++)
        {
            int f = foldOf[i];
            if (isSame[i]) pos[f]++; else neg[f]++;
            for (int k = 0; k < t; k++)
            {
                bool predicted = distances[i] < Thresholds[k]; // NaN compares false: predicted "different"
                if (predicted == isSame[i]) correct[f, k]++;
                if (predicted && isSame[i]) tp[f, k]++;
                if (predicted && !isSame[i]) fp[f, k]++;
            }
        }

        var accuracies = new double[folds];
        var chosen = new double[folds];
        var meanTpr = new double[t]; var meanFpr = new double[t];
        for (int f = 0; f < folds; f++)
        {
            int best = 0, bestCorrect = -1;
            for (int k = 0; k < t; k++)
            {
                int trainCorrect = 0;
                for (int g = 0; g < folds; g++) if (g != f) trainCorrect += correct[g, k];
                if (trainCorrect > bestCorrect) { bestCorrect = trainCorrect; best = k; } // first best, as np.argmax
            }
            chosen[f] = Thresholds[best];
            accuracies[f] = (double)correct[f, best] / split[f].Count;
            for (int k = 0; k < t; k++)
            {
                meanTpr[k] += (pos[f] == 0 ? 0 : (double)tp[f, k] / pos[f]) / folds;
                meanFpr[k] += (neg[f] == 0 ? 0 : (double)fp[f, k] / neg[f]) / folds;
            }
        }
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Select(a => (a - mean) * (a - mean)).Average());

        var overall = new double[t];
        int bestAll = 0;
        for (int k = 0; k < t; k++)
        {
            int c = 0;
            for (int f = 0; f < folds; f++) c += correct[f, k];
            overall[k] = (double)c / n;
            if (overall[k] > overall[bestAll]) bestAll = k;
        }
        return new FoldedAccuracy(mean, std, accuracies, chosen, meanTpr, meanFpr, overall, Thresholds[bestAll], overall[bestAll]);
    }

    static double Norm(double[] r) => Math.Sqrt(r.Sum(v => v * v));

    static double[] Add(double[] a, double[] b)
    {
        var s = new double[a.Length];
        for (int i = 0; i < a.Length; i++) s[i] = a[i] + b[i];
        return s;
    }
}
