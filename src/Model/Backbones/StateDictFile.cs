using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// Loads and saves module weights as PyTorch state_dict files (<c>torch.save(model.state_dict())</c> zip format),
/// by name, interchangeable with arcface_torch's backbone.pth / model.pt (spec §1.6).
/// </summary>
public static class StateDictFile
{
    /// <summary>
    /// Strict load: every key of the module must be in the file with the same shape, and nothing else may be.
    /// Nothing is copied unless everything matches. Floating dtypes are converted (as load_state_dict does).
    /// </summary>
    /// <param name="allowMissingNumBatchesTracked">
    /// tolerate files from PyTorch versions that did not save the BatchNorm counters (they keep their value)
    /// </param>
    public static void Load(Module module, string path, bool allowMissingNumBatchesTracked = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"weight file not found: {path}", path);
        var loaded = PthArchive.Read(path);
        try
        {
            Load(module, path, loaded, allowMissingNumBatchesTracked);
        }
        finally
        {
            foreach (var (_, v) in loaded) v.Dispose();
        }
    }

    /// <summary>The same strict load from a state_dict already read (e.g. one entry of a training checkpoint);
    /// <paramref name="source"/> names it in errors. The caller keeps ownership of <paramref name="loaded"/>.</summary>
    public static void Load(Module module, string source, IReadOnlyList<(string Key, Tensor Value)> loaded, bool allowMissingNumBatchesTracked = false)
    {
        var byKey = new Dictionary<string, Tensor>();
        foreach (var (k, v) in loaded) byKey[k] = v;
        var targets = StateDictEntries.Of(module)
            .Where(t => !(allowMissingNumBatchesTracked && t.Key.EndsWith(".num_batches_tracked") && !byKey.ContainsKey(t.Key)))
            .ToList();
        var problems = StateDictMismatch.Find(targets, loaded);
        if (problems != null)
            throw new InvalidDataException($"{source}: state_dict does not match {module.GetName()}: {problems}");
        RequireFinite(loaded, source);
        using var _ = no_grad();
        foreach (var t in targets) t.Tensor.copy_(byKey[t.Key]);
    }

    /// <summary>NaN or infinite weights (a diverged run, a corrupt file) only ever produce NaN outputs: refused by name.</summary>
    static void RequireFinite(IReadOnlyList<(string Key, Tensor Value)> loaded, string path)
    {
        foreach (var (key, value) in loaded)
        {
            if (!value.is_floating_point() || value.numel() == 0) continue;
            using var scope = NewDisposeScope();
            var bad = value.isfinite().logical_not().sum().item<long>();
            if (bad > 0)
                throw new InvalidDataException(
                    $"{path}: tensor '{key}' holds {bad} non-finite value(s) (NaN or infinity) of {value.numel()}; " +
                    "the weights are broken (a diverged run or a corrupt file) and would only produce NaN embeddings");
        }
    }

    /// <summary>Saves parameters and persistent buffers in PyTorch's order and format (loadable with torch.load).</summary>
    public static void Save(Module module, string path)
    {
        var entries = StateDictEntries.Of(module).Select(e => (e.Key, e.Tensor)).ToList();
        PthArchive.Write(path, entries, StateDictEntries.ModuleVersions(module));
    }
}
