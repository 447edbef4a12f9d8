using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Losses;

/// <summary>Stand-alone ArcFace of losses.py: s·cos(θ + m) at the target, s·cos(θ) elsewhere, straight-through gradient.</summary>
public sealed class ArcFace : nn.Module<Tensor, Tensor, Tensor>
{
    public double S { get; }
    public double Margin { get; }

    public ArcFace(double s = 64.0, double margin = 0.5) : base(nameof(ArcFace))
    {
        (S, Margin) = (s, margin);
        RegisterComponents();
    }

    public override Tensor forward(Tensor logits, Tensor labels) =>
        MarginMath.StraightThrough(logits, labels, S, MarginKind.ArcFace, Margin, 0, nameof(ArcFace));
}
