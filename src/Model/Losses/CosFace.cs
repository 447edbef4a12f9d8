using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Losses;

/// <summary>Stand-alone CosFace of losses.py: s·(c − m) at the target, s·c elsewhere.</summary>
public sealed class CosFace : nn.Module<Tensor, Tensor, Tensor>
{
    public double S { get; }
    public double M { get; }

    public CosFace(double s = 64.0, double m = 0.4) : base(nameof(CosFace))
    {
        (S, M) = (s, m);
        RegisterComponents();
    }

    public override Tensor forward(Tensor logits, Tensor labels) =>
        MarginMath.StraightThrough(logits, labels, S, MarginKind.CosFace, M, 0, nameof(CosFace));
}
