using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Weights;

/// <summary>One state_dict entry: PyTorch key and the live tensor (parameter or persistent buffer).</summary>
public sealed record StateDictEntry(string Key, Tensor Tensor, bool IsParameter);

/// <summary>
/// Walks a module tree the way PyTorch's Module.state_dict does: a module's own parameters, then its own
/// persistent buffers, then each child in registration order. TorchSharp's own state_dict order is not
/// guaranteed to be this one, and files must list keys in PyTorch's order to be byte-compatible.
/// </summary>
public static class StateDictEntries
{
    public static List<StateDictEntry> Of(Module module)
    {
        var result = new List<StateDictEntry>();
        Walk(module, "", result);
        return result;
    }

    /// <summary>
    /// torch's <c>state_dict._metadata</c>: every module path (root = "") in pre-order with its class
    /// <c>_version</c> (2 for batch norms, whose loader uses it for num_batches_tracked; 1 otherwise).
    /// </summary>
    public static List<(string Path, int Version)> ModuleVersions(Module module)
    {
        var result = new List<(string, int)>();
        WalkModules(module, "", result);
        return result;
    }

    static void Walk(Module module, string prefix, List<StateDictEntry> into)
    {
        foreach (var (name, p) in module.named_parameters(recurse: false))
            into.Add(new StateDictEntry(prefix + name, p, true));
        foreach (var (name, b) in module.named_buffers(recurse: false, include_nonpersistent: false))
            into.Add(new StateDictEntry(prefix + name, b, false));
        foreach (var (name, child) in module.named_children())
            Walk(child, prefix + name + ".", into);
    }

    static void WalkModules(Module module, string path, List<(string, int)> into)
    {
        into.Add((path, module is NormBase ? 2 : 1));
        foreach (var (name, child) in module.named_children())
            WalkModules(child, path.Length == 0 ? name : path + "." + name, into);
    }
}
