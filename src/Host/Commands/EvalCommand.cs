using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ActorFace.Model.Evaluation;
using ActorFace.Model.Evaluation.Plots;

namespace ActorFace.Host.Commands;

/// <summary>`actorface eval`: InsightFace 10-fold verification of one model on one or more `.bin` sets.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var bins = new Option<string[]>("--bin") { Description = "verification .bin file (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "print the results as JSON" };
        var roc = new Option<string?>("--roc") { Description = "write ROC + accuracy-vs-threshold charts to this PNG" };
        var model = new EmbedderOptions();
        var command = new Command("eval", "10-fold verification accuracy (flip-sum, InsightFace protocol) on .bin sets");
        command.Options.Add(bins);
        model.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(roc);
        command.SetAction(p => CommandErrors.Run(p, "eval", output =>
        {
            var paths = p.GetValue(bins)!;
            foreach (var path in paths)
                if (!File.Exists(path)) throw new FileNotFoundException($"--bin {path}: file not found", path);
            using var embedder = model.Create(p);
            var runs = new List<VerificationRunner.Timed>();
            foreach (var path in paths)
            {
                var set = DecodedVerificationSet.Load(path);
                VerificationRunner.Timed run;
                using (var progress = ProgressReporter.ForCommand($"eval {set.Name}", set.FacesAndMirrors.Length, "images", p.InvocationConfiguration.Error))
                    run = VerificationRunner.Run(set, embedder, requireFinite: true, progress: n => progress.Advance(n)); // no accuracy from NaN embeddings
                runs.Add(run);
                if (!p.GetValue(json)) PrintText(output, run, embedder.Description);
            }
            if (p.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(runs.Select(ToJson), new JsonSerializerOptions { WriteIndented = true }));
            if (p.GetValue(roc) is { } png)
            {
                VerificationPlots.Save(png, runs.Select(r => r.Result).ToList());
                if (!p.GetValue(json)) output.WriteLine($"charts written to {png}");
            }
            return 0;
        }));
        return command;
    }

    static void PrintText(TextWriter o, VerificationRunner.Timed run, string model)
    {
        var r = run.Result;
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        o.WriteLine(F($"[{r.Name}] model {model}, {r.Pairs} pairs, {run.ImagesEmbedded} images embedded in {run.EmbeddingTime.TotalSeconds:F1} s ({run.ImagesPerSecond:F1} images/s)"));
        o.WriteLine(F($"[{r.Name}]XNorm: {r.XNorm:F6}"));
        o.WriteLine(F($"[{r.Name}]Accuracy: {r.NoFlip.Accuracy:F5}+-{r.NoFlip.Std:F5}"));
        o.WriteLine(F($"[{r.Name}]Accuracy-Flip: {r.Flip.Accuracy:F5}+-{r.Flip.Std:F5}"));
        o.WriteLine(F($"[{r.Name}]Best-Threshold-Accuracy: {r.Flip.BestThresholdAccuracy:F5} at {r.Flip.BestThreshold:F2}"));
        o.WriteLine(F($"[{r.Name}]Fold thresholds: {string.Join(" ", r.Flip.FoldThresholds.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))}"));
    }

    static object ToJson(VerificationRunner.Timed run)
    {
        var r = run.Result;
        return new
        {
            name = r.Name, pairs = r.Pairs, xnorm = r.XNorm,
            accuracy_flip = r.Flip.Accuracy, std_flip = r.Flip.Std,
            accuracy = r.NoFlip.Accuracy, std = r.NoFlip.Std,
            best_threshold = r.Flip.BestThreshold, best_threshold_accuracy = r.Flip.BestThresholdAccuracy,
            fold_accuracies = r.Flip.FoldAccuracies, fold_thresholds = r.Flip.FoldThresholds,
            images_per_second = run.ImagesPerSecond,
        };
    }
}
