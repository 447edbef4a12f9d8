using System.CommandLine;
using ActorFace.Model.Evaluation;

namespace ActorFace.Host.Commands;

/// <summary>`actorface eval-ijb`: IJB-B / IJB-C 1:1 verification, TAR at FAR 1e-6 … 1e-1.</summary>
public static class EvalIjbCommand
{
    public static Command Create()
    {
        var root = new Option<string>("--root") { Description = "IJB folder holding meta/ and loose_crop/ (e.g. IJB_release/IJBC)", Required = true };
        var target = new Option<string>("--target") { Description = "IJBC or IJBB", DefaultValueFactory = _ => "IJBC" };
        var scores = new Option<string?>("--scores") { Description = "save the per-pair cosine scores as .npy (float32)" };
        var png = new Option<string?>("--roc") { Description = "write the ROC curve (log FAR axis) to this PNG" };
        var model = new EmbedderOptions();
        var command = new Command("eval-ijb", "IJB-B/IJB-C 1:1 template verification (flip-sum x face score, media/template pooling)");
        command.Options.Add(root);
        command.Options.Add(target);
        model.AddTo(command);
        command.Options.Add(scores);
        command.Options.Add(png);
        command.SetAction(p => CommandErrors.Run(p, "eval-ijb", o =>
        {
            var meta = IjbMeta.Load(p.GetValue(root)!, p.GetValue(target)!);
            using var embedder = model.Create(p);
            o.WriteLine($"{meta.Target}: {meta.Faces.Count} images, {meta.PairGenuine.Length} pairs ({meta.PairGenuine.Count(g => g)} genuine), model {embedder.Description}");
            IjbResult result;
            using (var progress = ProgressReporter.ForCommand($"eval-ijb {meta.Target}", meta.Faces.Count, "images", p.InvocationConfiguration.Error))
                result = IjbEvaluator.Run(meta, embedder, progress: n => progress.Advance(n));
            string method = $"{Path.GetFileNameWithoutExtension(p.GetValue(model.Onnx) ?? p.GetValue(model.Network) ?? "model")}-{meta.Target.ToUpperInvariant()}";
            o.WriteLine(result.Table(method));
            o.WriteLine($"AUC {result.Roc.Auc() * 100:F2}%, {result.Templates} templates, embedding {result.EmbeddingTime.TotalSeconds:F1} s");
            if (p.GetValue(scores) is { } npy) EmbeddingFiles.WriteNpy(npy, new[] { result.Scores.Select(s => (float)s).ToArray() });
            if (p.GetValue(png) is { } path) IjbEvaluator.SaveRocPng(path, method, result);
            return 0;
        }));
        return command;
    }
}
