using static TorchSharp.torch;

namespace ActorFace.Model.Backbones.Weights;

/// <summary>Compares a module's state_dict with a loaded one and describes every difference by key and shape.</summary>
public static class StateDictMismatch
{
    const int MaxListed = 20;

    /// <returns>null when keys, shapes and dtype kinds all match; otherwise a readable description</returns>
    public static string? Find(IReadOnlyList<StateDictEntry> module, IReadOnlyList<(string Key, Tensor Value)> file)
    {
        var fileByKey = new Dictionary<string, Tensor>();
        foreach (var (k, v) in file) fileByKey[k] = v;
        var moduleKeys = module.Select(e => e.Key).ToHashSet();

        var missing = module.Where(e => !fileByKey.ContainsKey(e.Key)).Select(e => $"{e.Key} {Shape(e.Tensor)}").ToList();
        var unexpected = file.Where(e => !moduleKeys.Contains(e.Key)).Select(e => $"{e.Key} {Shape(e.Value)}").ToList();
        var misShaped = new List<string>();
        var wrongType = new List<string>();
        foreach (var e in module)
        {
            if (!fileByKey.TryGetValue(e.Key, out var f)) continue;
            if (!f.shape.SequenceEqual(e.Tensor.shape))
                misShaped.Add($"{e.Key} file {Shape(f)} vs module {Shape(e.Tensor)}");
            else if (is_floating_point(f) != is_floating_point(e.Tensor))
                wrongType.Add($"{e.Key} file {f.dtype} vs module {e.Tensor.dtype}");
        }
        if (missing.Count + unexpected.Count + misShaped.Count + wrongType.Count == 0) return null;

        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing key(s): {List(missing)}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected key(s): {List(unexpected)}");
        if (misShaped.Count > 0) parts.Add($"{misShaped.Count} mis-shaped key(s): {List(misShaped)}");
        if (wrongType.Count > 0) parts.Add($"{wrongType.Count} key(s) with an incompatible dtype: {List(wrongType)}");
        if (unexpected.Count > 0 && file.All(e => e.Key.StartsWith("module.")))
            parts.Add("hint: every key starts with 'module.' (a DataParallel/DDP wrapper was saved); strip that prefix");
        return string.Join("; ", parts);
    }

    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    static string List(List<string> items) =>
        string.Join(", ", items.Take(MaxListed)) + (items.Count > MaxListed ? $", … and {items.Count - MaxListed} more" : "");
}
