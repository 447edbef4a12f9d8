using System.Globalization;
using System.Text;
using ActorFace.Model.Evaluation.Plots;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Evaluation;

/// <summary>Result of an IJB 1:1 run: per-pair cosine scores, the ROC and TAR at the standard FARs.</summary>
public sealed record IjbResult(string Target, double[] Scores, RocCurve Roc, double[] TarAtFar, int Images, int Templates, TimeSpan EmbeddingTime)
{
    /// <summary>eval_ijbc.py's prettytable: Methods | 1e-06 | … | 0.1, TAR in percent with 2 decimals.</summary>
    public string Table(string method)
    {
        var headers = new[] { "Methods" }.Concat(RocCurve.StandardFarLabels).ToArray();
        var cells = new[] { method }.Concat(TarAtFar.Select(t => (t * 100).ToString("F2", CultureInfo.InvariantCulture))).ToArray();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells[i].Length) + 2).ToArray();
        string Line() => "+" + string.Join("+", widths.Select(w => new string('-', w))) + "+";
        string Row(string[] v) => "|" + string.Join("|", v.Select((s, i) => Center(s, widths[i]))) + "|";
        return new StringBuilder().AppendLine(Line()).AppendLine(Row(headers)).AppendLine(Line()).AppendLine(Row(cells)).Append(Line()).ToString();
    }

    static string Center(string s, int w)
    {
        int left = (w - s.Length) / 2;
        return new string(' ', left) + s + new string(' ', w - s.Length - left);
    }
}

/// <summary>
/// IJB-B / IJB-C 1:1 verification as eval_ijbc.py in its fixed test mode (spec §6.4): 5-point similarity alignment,
/// feature = (f(img) + f(mirror)) × detector score, media mean, template sum, L2 normalise, cosine per pair.
/// </summary>
public static class IjbEvaluator
{
    /// <param name="progress">called with the number of images (faces, not mirrors) finished after each chunk</param>
    public static IjbResult Run(IjbMeta meta, IFaceEmbedder embedder, int chunk = 512, Action<int>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var features = new double[meta.Faces.Count][];
        for (int start = 0; start < meta.Faces.Count; start += chunk)
        {
            int count = Math.Min(chunk, meta.Faces.Count - start);
            var batch = new RgbImage[2 * count];
            Parallelism.For(count, i =>
            {
                var face = meta.Faces[start + i];
                var aligned = FaceAligner.Align(ImageCodec.DecodeFile(meta.ImagePath(face)), face.Landmarks);
                batch[i] = aligned;
                batch[count + i] = aligned.FlipHorizontal();
            });
            var raw = embedder.Embed(batch);
            for (int i = 0; i < count; i++)
            {
                float score = meta.Faces[start + i].Score;
                var a = raw[i]; var b = raw[count + i];
                var v = new double[a.Length];
                for (int k = 0; k < a.Length; k++) v[k] = (a[k] + b[k]) * score; // float32 as in the reference
                features[start + i] = v;
            }
            progress?.Invoke(count);
        }
        clock.Stop();

        var templates = PoolTemplates(meta.Faces, features);
        var scores = new double[meta.PairGenuine.Length];
        Parallelism.For(scores.Length, i =>
        {
            if (!templates.TryGetValue(meta.PairTemplate1[i], out var t1) || !templates.TryGetValue(meta.PairTemplate2[i], out var t2))
                throw new InvalidDataException(
                    $"{meta.Target}_template_pair_label.txt pair {i + 1}: template {meta.PairTemplate1[i]} or {meta.PairTemplate2[i]} has no images");
            double s = 0;
            for (int k = 0; k < t1.Length; k++) s += t1[k] * t2[k];
            scores[i] = s;
        });
        var roc = RocCurve.Compute(meta.PairGenuine, scores);
        var tars = RocCurve.StandardFars.Select(roc.TarAt).ToArray();
        return new IjbResult(meta.Target, scores, roc, tars, meta.Faces.Count, templates.Count, clock.Elapsed);
    }

    /// <summary>Template vector = Σ over its media (ascending id) of the mean feature of that media's images, L2-normalised.</summary>
    public static Dictionary<int, double[]> PoolTemplates(IReadOnlyList<IjbFace> faces, double[][] features)
    {
        var result = new Dictionary<int, double[]>();
        foreach (var template in Enumerable.Range(0, faces.Count).GroupBy(i => faces[i].TemplateId).OrderBy(g => g.Key))
        {
            var sum = new double[features[template.First()].Length];
            foreach (var media in template.GroupBy(i => faces[i].MediaId).OrderBy(g => g.Key))
            {
                int n = media.Count();
                var mean = new double[sum.Length];
                foreach (var i in media) for (int k = 0; k < sum.Length; k++) mean[k] += features[i][k];
                for (int k = 0; k < sum.Length; k++) sum[k] += mean[k] / n;
            }
            double norm = Math.Sqrt(sum.Sum(v => v * v));
            result[template.Key] = norm == 0 ? sum : sum.Select(v => v / norm).ToArray();
        }
        return result;
    }

    public static void SaveRocPng(string path, string label, IjbResult result)
    {
        var chart = new LineChart
        {
            Title = $"ROC on {result.Target.ToUpperInvariant()} 1:1", XLabel = "False Positive Rate", YLabel = "True Positive Rate",
            LogX = true, XRange = (1e-6, 0.1), YRange = (0.3, 1.0),
        };
        chart.Series.Add(new ChartSeries($"{label} (AUC = {result.Roc.Auc() * 100:F2}%)", result.Roc.Fpr, result.Roc.Tpr));
        LineChart.SavePng(path, 700, 520, chart);
    }
}
