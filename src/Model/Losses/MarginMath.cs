using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Losses;

public enum MarginKind { ArcFace, CosFace }

/// <summary>
/// The in-place margin arithmetic of arcface_torch's losses.py, shared by the autograd modules and by Partial FC
/// (which applies it to its single logits buffer). Operations and their order follow the reference exactly, so
/// the forward values are bit-identical to it (same float32 acos/cos/add sequence).
/// </summary>
public static class MarginMath
{
    /// <summary>The branch precedence of CombinedMarginLoss (spec §2.1): ArcFace if m1 == 1 and m3 == 0, else CosFace if m3 > 0.</summary>
    public static MarginKind SelectBranch(double m1, double m2, double m3)
    {
        if (m1 == 1.0 && m3 == 0.0) return MarginKind.ArcFace;
        if (m3 > 0) return MarginKind.CosFace;
        throw new ArgumentException(
            $"CombinedMarginLoss: margin_list (m1={m1}, m2={m2}, m3={m3}) is not supported. arcface_torch implements only " +
            "ArcFace (m1 = 1, m3 = 0, margin m2) or CosFace (m3 > 0; m1 and m2 ignored); the combined cos(m1*theta+m2)-m3 form " +
            "raises there as well.");
    }

    /// <summary>
    /// Flattens labels ([N] or [N,1], any integer dtype) to int64 [N] and checks that every value is -1 or a column of a
    /// [N, K] logits matrix, because an out-of-range column would otherwise become an opaque native indexing error.
    /// </summary>
    public static Tensor CheckLabels(Tensor labels, long rows, long columns, string who)
    {
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"{who}: labels must be an integer tensor, got {labels.dtype}");
        var flat = labels.reshape(-1).to_type(ScalarType.Int64);
        if (flat.shape[0] != rows)
            throw new ArgumentException($"{who}: {flat.shape[0]} labels for {rows} logit rows (labels shape [{string.Join(",", labels.shape)}])");
        if (rows > 0)
        {
            var min = flat.min().item<long>();
            var max = flat.max().item<long>();
            if (min < -1 || max >= columns)
                throw new ArgumentException($"{who}: labels must lie in [-1, {columns}) (local column or -1), got range [{min}, {max}]");
        }
        return flat;
    }

    /// <summary>Row indices of the rows that have a local target, and their target columns.</summary>
    public static (Tensor Rows, Tensor Cols) Positives(Tensor labels)
    {
        var rows = labels.ne(-1).nonzero().reshape(-1);
        return (rows, labels.index_select(0, rows));
    }

    /// <summary>
    /// Applies filtering (tau > 0) and the margin branch to <paramref name="logits"/> in place and multiplies by s.
    /// Returns the bool mask of filtered entries (null when tau &lt;= 0), which the straight-through backward needs.
    /// </summary>
    public static Tensor? ApplyInPlace(Tensor logits, Tensor labels, double s, MarginKind kind, double margin, double tau)
    {
        using var noGrad = torch.no_grad();
        var (rows, cols) = Positives(labels);
        Tensor? filtered = null;
        if (tau > 0)
        {
            // Target entries are never filtered; rows without a local target have every column as candidate.
            filtered = logits.gt(tau);
            filtered.index_put_(torch.tensor(false, device: filtered.device), TensorIndex.Tensor(rows), TensorIndex.Tensor(cols));
            logits.masked_fill_(filtered, 0.0);
        }
        if (kind == MarginKind.ArcFace)
        {
            logits.acos_();
            var target = logits.index(TensorIndex.Tensor(rows), TensorIndex.Tensor(cols)).add_(margin);
            logits.index_put_(target, TensorIndex.Tensor(rows), TensorIndex.Tensor(cols));
            logits.cos_();
        }
        else
        {
            var target = logits.index(TensorIndex.Tensor(rows), TensorIndex.Tensor(cols)).sub_(margin);
            logits.index_put_(target, TensorIndex.Tensor(rows), TensorIndex.Tensor(cols));
        }
        logits.mul_(s);
        return filtered;
    }

    /// <summary>
    /// Autograd form: forward values exactly those of <see cref="ApplyInPlace"/>, gradient d out / d cos = s (0 where
    /// filtered). The identity v + (x - x.detach()) adds an exact zero, so no rounding is introduced.
    /// </summary>
    public static Tensor StraightThrough(Tensor cosines, Tensor labels, double s, MarginKind kind, double margin, double tau, string who)
    {
        if (cosines.dim() != 2) throw new ArgumentException($"{who}: logits must be [N, K], got [{string.Join(",", cosines.shape)}]");
        if (cosines.dtype != ScalarType.Float32 && cosines.dtype != ScalarType.Float64)
            throw new ArgumentException($"{who}: logits must be float32 (or float64), got {cosines.dtype}");
        using var scope = torch.NewDisposeScope();
        var flat = CheckLabels(labels, cosines.shape[0], cosines.shape[1], who);
        var values = cosines.detach().clone();
        var filtered = ApplyInPlace(values, flat, s, kind, margin, tau);
        if (!cosines.requires_grad || !torch.is_grad_enabled()) return values.MoveToOuterDisposeScope();
        var kept = filtered is null ? cosines : cosines.masked_fill(filtered, 0.0);
        var scaled = kept * s;
        return (values + (scaled - scaled.detach())).MoveToOuterDisposeScope();
    }
}
