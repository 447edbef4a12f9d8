using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;
using ActorFace.Model.Data.Synthetic;
using ActorFace.Model.Evaluation;
using static TorchSharp.torch;

namespace ActorFace.Actors.Training;

/// <summary>
/// arcface_torch's CallBackVerification on rank 0: `val_targets` read from `val_dir` (default `rec`), plus, for
/// dataset = synthetic, a held-out set of identities never seen in training. The sets are loaded on first use, so
/// ranks other than 0 never pay for them.
/// </summary>
public sealed class VerificationHook(TrainingSettings settings) : IVerificationHook
{
    public const string SyntheticTarget = "synthetic_val";

    private readonly List<string> _lines = [];
    private VerificationCallback? _callback;

    public (IReadOnlyList<string> Lines, IReadOnlyList<VerificationOutcome> Results) Evaluate(nn.Module<Tensor, Tensor> backbone, long globalStep)
    {
        _lines.Clear();
        var callback = _callback ??= Create();
        using var embedder = new TorchFaceEmbedder(backbone, batchSize: 32);
        var results = callback.Evaluate(checked((int)globalStep), embedder);
        var outcomes = results.Select(r => new VerificationOutcome(r.Name, r.Flip.Accuracy, r.Flip.Std, callback.HighestAccuracy[r.Name])).ToList();
        return (_lines.ToList(), outcomes);
    }

    private VerificationCallback Create()
    {
        var targets = new List<(string Dir, string Name)>();
        foreach (var name in settings.ValTargets)
            targets.Add((settings.VerificationDirectory, name));
        if (settings.Dataset == "synthetic" && settings.Synthetic.ValPairs > 0)
        {
            var path = Path.Combine(settings.OutputDirectory, SyntheticTarget + ".bin");
            if (!File.Exists(path))
                AtomicFile.Write(path, temp => SyntheticVerificationSet.Write(temp, settings.Seed, settings.NumClasses,
                    settings.Synthetic.ValIdentities, settings.Synthetic.ValPairs));
            targets.Add((settings.OutputDirectory, SyntheticTarget));
        }
        // VerificationCallback reads <dir>/<name>.bin for one dir; targets from two folders get one callback each.
        var callbacks = targets.GroupBy(t => t.Dir)
            .Select(g => new VerificationCallback(settings.Verbose, g.Select(t => t.Name), g.Key, _lines.Add))
            .ToList();
        return callbacks.Count switch
        {
            0 => new VerificationCallback(settings.Verbose, [], settings.OutputDirectory, _lines.Add),
            1 => callbacks[0],
            _ => throw new NotSupportedException("val_targets must live in one folder (val_dir) when dataset = synthetic adds its held-out set; put them together"),
        };
    }
}
