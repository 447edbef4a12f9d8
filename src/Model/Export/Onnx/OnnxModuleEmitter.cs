using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Vit;
using TorchSharp.Modules;
using static ActorFace.Model.Export.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Export.Onnx;

/// <summary>
/// Walks a backbone's module tree by its PyTorch child names and emits the eval-mode ONNX graph per module type:
/// containers in order, the residual blocks with their Add, the ViT's attention decomposed into MatMul/Softmax.
/// Initializers are named by state_dict key. An unknown module type is an error naming its path.
/// </summary>
internal sealed class OnnxModuleEmitter(OnnxGraphBuilder g)
{
    readonly OnnxLayerEmitter layers = new(g);

    public string Emit(Module module, string x, string path = "")
    {
        var leaf = layers.TryEmit(module, x, path);
        if (leaf is not null) return leaf;
        return module switch
        {
            IResNet => Chain(module, x, path, skip: ["dropout"], flattenBefore: "fc"),
            IBasicBlock => BasicBlock(module, x, path),
            DepthWise dw => dw.IsResidual ? g.Node("Add", "residual", [x, Chain(module, x, path)]) : Chain(module, x, path),
            MobileFaceNet or ConvBlock or LinearBlock or Residual or GDC or TorchSharp.Modules.Sequential => Chain(module, x, path),
            _ when IsModuleList(module) => Chain(module, x, path),
            VisionTransformer vit => Vit(vit, x, path),
            Backbones.Vit.PatchEmbed => PatchEmbed(module, x, path),
            Block => TransformerBlock(module, x, path),
            Attention attn => Attention(attn, x, path),
            Mlp or DropPath => Chain(module, x, path),
            _ => throw new NotSupportedException($"ONNX export: module '{path.TrimEnd('.')}' of type {module.GetType().Name} is not supported"),
        };
    }

    static bool IsModuleList(Module m) =>
        m.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(ModuleList<>);

    static Module Child(Module m, string name) =>
        m.named_children().FirstOrDefault(c => c.name == name).module
        ?? throw new InvalidOperationException($"{m.GetName()} has no child '{name}'");

    // Children in registration order (= PyTorch's forward order for these backbones).
    string Chain(Module module, string x, string path, string[]? skip = null, string? flattenBefore = null)
    {
        foreach (var (name, child) in module.named_children())
        {
            if (skip?.Contains(name) == true) continue;
            if (name == flattenBefore) x = g.Node("Flatten", "flatten", [x], Int("axis", 1));
            x = Emit(child, x, path + name + ".");
        }
        return x;
    }

    string BasicBlock(Module block, string x, string path)
    {
        var y = x;
        foreach (var name in new[] { "bn1", "conv1", "bn2", "prelu", "conv2", "bn3" })
            y = Emit(Child(block, name), y, path + name + ".");
        var downsample = block.named_children().FirstOrDefault(c => c.name == "downsample").module;
        var shortcut = downsample is null ? x : Emit(downsample, x, path + "downsample.");
        return g.Node("Add", "residual", [y, shortcut]);
    }

    string Vit(VisionTransformer vit, string x, string path)
    {
        var c = vit.Config;
        var h = Emit(Child(vit, "patch_embed"), x, path + "patch_embed.");
        var pos = vit.named_parameters(recurse: false).Single(p => p.name == "pos_embed").parameter;
        h = g.Node("Add", "pos", [h, g.Weight(path + "pos_embed", pos)]);
        h = Emit(Child(vit, "blocks"), h, path + "blocks.");
        h = Emit(Child(vit, "norm"), h, path + "norm.");
        // [N, L, D] → [N, L·D]; 0 keeps the (possibly dynamic) batch dimension.
        h = g.Node("Reshape", "tokens_flat", [h, g.Int64s("shape", 0, c.NumPatches * c.EmbedDim)]);
        return Emit(Child(vit, "feature"), h, path + "feature.");
    }

    string PatchEmbed(Module patch, string x, string path)
    {
        var h = Emit(Child(patch, "proj"), x, path + "proj.");
        var dim = ((Conv2d)Child(patch, "proj")).weight!.shape[0];
        h = g.Node("Reshape", "patches", [h, g.Int64s("shape", 0, dim, -1)]);
        return g.Node("Transpose", "tokens", [h], Ints("perm", 0, 2, 1));
    }

    string TransformerBlock(Module block, string x, string path)
    {
        var a = Emit(Child(block, "attn"), Emit(Child(block, "norm1"), x, path + "norm1."), path + "attn.");
        x = g.Node("Add", "residual", [x, a]);
        var m = Emit(Child(block, "mlp"), Emit(Child(block, "norm2"), x, path + "norm2."), path + "mlp.");
        return g.Node("Add", "residual", [x, m]);
    }

    // qkv is split into three [D, D] projections so each head's q, k, v come out of one MatMul + Reshape.
    string Attention(Attention attn, string x, string path)
    {
        var qkv = ((Linear)Child(attn, "qkv")).weight!;
        long dim = qkv.shape[1], heads = attn.NumHeads, headDim = dim / heads;
        string Heads(int index, string name, long[] perm)
        {
            using var w = qkv.detach().narrow(0, index * dim, dim).t();
            var y = g.Node("MatMul", name, [x, g.Weight($"{path}qkv.weight_{name}_t", w)]);
            y = g.Node("Reshape", name + "_heads", [y, g.Int64s("shape", 0, -1, heads, headDim)]);
            return g.Node("Transpose", name + "_t", [y], Ints("perm", perm));
        }
        var q = Heads(0, "q", [0, 2, 1, 3]);
        var k = Heads(1, "k", [0, 2, 3, 1]);
        var v = Heads(2, "v", [0, 2, 1, 3]);
        var scores = g.Node("Mul", "scores", [g.Node("MatMul", "qk", [q, k]), g.Scalar("scale", (float)attn.Scale)]);
        var probs = g.Node("Softmax", "attn", [scores], Int("axis", -1));
        var h = g.Node("Transpose", "attn_out_t", [g.Node("MatMul", "attn_v", [probs, v])], Ints("perm", 0, 2, 1, 3));
        h = g.Node("Reshape", "attn_out", [h, g.Int64s("shape", 0, -1, dim)]);
        return layers.Linear((Linear)Child(attn, "proj"), h, path + "proj.");
    }
}
