using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>The transformer MLP: fc1 (dim → ratio·dim) → ReLU6 → fc2 (→ dim); drop rate 0 in every published ViT.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    readonly Linear fc1;
    readonly ReLU6 act;
    readonly Linear fc2;

    public Mlp(long inFeatures, long hiddenFeatures) : base(nameof(Mlp))
    {
        fc1 = Linear(inFeatures, hiddenFeatures);
        act = ReLU6();
        fc2 = Linear(hiddenFeatures, inFeatures);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = MixedPrecision.Linear(fc1, x);
        h = act.call(h);
        h = MixedPrecision.Linear(fc2, h);
        return h.MoveToOuterDisposeScope();
    }
}
