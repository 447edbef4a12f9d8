using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Losses;

/// <summary>
/// arcface_torch's CombinedMarginLoss: clamped cosines [N, K] and local labels ([N] or [N,1], -1 = no local target)
/// -> scaled logits. ArcFace when m1 == 1 and m3 == 0, CosFace when m3 > 0 (m1, m2 ignored), any other triple is
/// rejected at construction (the reference fails on the first forward). Gradient is straight-through: s everywhere.
/// </summary>
public sealed class CombinedMarginLoss : nn.Module<Tensor, Tensor, Tensor>
{
    public double S { get; }
    public double M1 { get; }
    public double M2 { get; }
    public double M3 { get; }
    public double InterclassFilteringThreshold { get; }
    public MarginKind Kind { get; }

    /// <summary>The margin the selected branch uses: m2 (ArcFace, angular) or m3 (CosFace, cosine).</summary>
    public double Margin => Kind == MarginKind.ArcFace ? M2 : M3;

    public CombinedMarginLoss(double s, double m1, double m2, double m3, double interclassFilteringThreshold = 0)
        : base(nameof(CombinedMarginLoss))
    {
        Kind = MarginMath.SelectBranch(m1, m2, m3);
        (S, M1, M2, M3, InterclassFilteringThreshold) = (s, m1, m2, m3, interclassFilteringThreshold);
        RegisterComponents();
    }

    public override Tensor forward(Tensor logits, Tensor labels) =>
        MarginMath.StraightThrough(logits, labels, S, Kind, Margin, InterclassFilteringThreshold, nameof(CombinedMarginLoss));

    /// <summary>In-place form used by Partial FC on its one logits buffer; labels must be int64 [N] already checked.</summary>
    public Tensor? ApplyInPlace(Tensor logits, Tensor labels) =>
        MarginMath.ApplyInPlace(logits, labels, S, Kind, Margin, InterclassFilteringThreshold);
}
