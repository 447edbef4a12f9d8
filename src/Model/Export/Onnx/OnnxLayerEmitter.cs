using TorchSharp.Modules;
using static ActorFace.Model.Export.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Export.Onnx;

/// <summary>
/// ONNX nodes for TorchSharp's leaf layers in eval mode: Conv2d → Conv, BatchNorm2d → BatchNormalization,
/// BatchNorm1d → folded Mul/Add, PReLU → PRelu, Linear → MatMul(+Add), LayerNorm → LayerNormalization (opset ≥ 17)
/// or its decomposition, ReLU6 → Clip, Flatten → Flatten; Dropout is the identity in eval and emits nothing.
/// </summary>
internal sealed class OnnxLayerEmitter(OnnxGraphBuilder g)
{
    public OnnxGraphBuilder Graph => g;

    /// <summary>Emits a leaf layer; null when <paramref name="module"/> is not one.</summary>
    public string? TryEmit(Module module, string x, string path) => module switch
    {
        Conv2d conv => Conv(conv, x, path),
        BatchNorm2d bn => BatchNorm2d(bn, x, path),
        BatchNorm1d bn => BatchNorm1dFolded(bn, x, path),
        PReLU prelu => PRelu(prelu, x, path),
        Linear linear => Linear(linear, x, path),
        LayerNorm norm => LayerNorm(norm, x, path),
        TorchSharp.Modules.ReLU6 => g.Node("Clip", "relu6", [x, g.Scalar("zero", 0), g.Scalar("six", 6)]),
        TorchSharp.Modules.Flatten => g.Node("Flatten", "flatten", [x], Int("axis", 1)),
        TorchSharp.Modules.Dropout or TorchSharp.Modules.Identity => x,
        _ => null,
    };

    string Conv(Conv2d conv, string x, string path)
    {
        var w = conv.weight!;
        var inputs = conv.bias is null
            ? new[] { x, g.Weight(path + "weight", w) }
            : [x, g.Weight(path + "weight", w), g.Weight(path + "bias", conv.bias)];
        var (ph, pw) = Pair(conv.padding, 0);
        var (sh, sw) = Pair(conv.stride, 1);
        var (dh, dw) = Pair(conv.dilation, 1);
        return g.Node("Conv", "conv", inputs,
            Ints("kernel_shape", w.shape[2], w.shape[3]),
            Ints("strides", sh, sw),
            Ints("pads", ph, pw, ph, pw),
            Ints("dilations", dh, dw),
            Int("group", conv.groups));
    }

    // TorchSharp keeps one value for square settings and two for (height, width).
    static (long, long) Pair(long[]? values, long fallback) => values switch
    {
        null or [] => (fallback, fallback),
        [var v] => (v, v),
        [var h, var w, ..] => (h, w),
    };

    string BatchNorm2d(BatchNorm2d bn, string x, string path) =>
        g.Node("BatchNormalization", "bn",
            [x, g.Weight(path + "weight", bn.weight!), g.Weight(path + "bias", bn.bias!),
             g.Weight(path + "running_mean", bn.running_mean!), g.Weight(path + "running_var", bn.running_var!)],
            Float("epsilon", (float)bn.eps));

    // Eval-mode BatchNorm1d on the [N, D] embedding folded into y = x·scale + shift, which needs no Unsqueeze/Squeeze
    // around a rank-2 BatchNormalization; computed in float64 so the fold adds only the final float32 rounding.
    string BatchNorm1dFolded(BatchNorm1d bn, string x, string path)
    {
        using var scope = NewDisposeScope();
        var mean = bn.running_mean!.to(ScalarType.Float64);
        var scale = bn.weight!.to(ScalarType.Float64) / (bn.running_var!.to(ScalarType.Float64) + bn.eps).sqrt();
        var shift = bn.bias!.to(ScalarType.Float64) - mean * scale;
        var scaled = g.Node("Mul", "bn1d_scale", [x, g.Weight(path + "folded_scale", scale)]);
        return g.Node("Add", "bn1d", [scaled, g.Weight(path + "folded_shift", shift)]);
    }

    string PRelu(PReLU prelu, string x, string path)
    {
        // One slope per channel, shaped [C, 1, 1] to broadcast over NCHW.
        using var slope = prelu.weight!.detach().reshape(-1, 1, 1);
        return g.Node("PRelu", "prelu", [x, g.Weight(path + "weight", slope)]);
    }

    /// <summary>x·Wᵀ (+ b) for inputs of any rank; Wᵀ is stored transposed, named key + "_t".</summary>
    public string Linear(Linear linear, string x, string path)
    {
        using var wt = linear.weight!.detach().t();
        var y = g.Node("MatMul", "matmul", [x, g.Weight(path + "weight_t", wt)]);
        return linear.bias is null ? y : g.Node("Add", "linear", [y, g.Weight(path + "bias", linear.bias)]);
    }

    string LayerNorm(LayerNorm norm, string x, string path)
    {
        var gamma = g.Weight(path + "weight", norm.weight!);
        var beta = g.Weight(path + "bias", norm.bias!);
        var eps = (float)norm.eps;
        if (g.Opset >= 17)
            return g.Node("LayerNormalization", "layernorm", [x, gamma, beta], Int("axis", -1), Float("epsilon", eps));
        // Before opset 17: (x − mean) / sqrt(var + eps) · γ + β with the biased variance, over the last axis.
        var mean = g.Node("ReduceMean", "ln_mean", [x], Ints("axes", -1), Int("keepdims", 1));
        var centred = g.Node("Sub", "ln_centred", [x, mean]);
        var square = g.Node("Mul", "ln_square", [centred, centred]);
        var variance = g.Node("ReduceMean", "ln_var", [square], Ints("axes", -1), Int("keepdims", 1));
        var std = g.Node("Sqrt", "ln_std", [g.Node("Add", "ln_var_eps", [variance, g.Scalar("ln_eps", eps)])]);
        var normalised = g.Node("Div", "ln_norm", [centred, std]);
        return g.Node("Add", "layernorm", [g.Node("Mul", "ln_scaled", [normalised, gamma]), beta]);
    }
}
