using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Stochastic depth (timm's DropPath): in training, each sample's residual branch is zeroed with probability p and
/// the survivors scaled by 1/(1−p); identity in eval or when p = 0. Has no parameters, so no state_dict entries.
/// </summary>
public sealed class DropPath : Module<Tensor, Tensor>
{
    public double P { get; }

    /// <summary>Source of the masks while set (gradient checkpointing replays a block with the same seed).</summary>
    public TorchSharp.torch.Generator? Generator { get; set; }

    public DropPath(double p) : base(nameof(DropPath))
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "must be in [0, 1)");
        P = p;
    }

    public override Tensor forward(Tensor x)
    {
        if (!training || P == 0) return x.alias();
        var keep = 1 - P;
        var shape = new long[x.ndim];
        shape[0] = x.shape[0];
        for (var i = 1; i < shape.Length; i++) shape[i] = 1;
        using var mask = empty(shape, x.dtype, x.device).bernoulli_(keep, generator: Generator);
        using var scaled = mask.div_(keep);
        return x * scaled;
    }
}
