using ActorFace.Model.Losses;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// Softmax cross-entropy over a logits matrix whose columns are split across ranks (spec §3.5, DistCrossEntropy of
/// partial_fc_v2.py). Works in place on the one [N, K] buffer: logits -> probabilities -> gradient, so Partial FC never
/// holds a second logits-sized tensor.
/// </summary>
public static class DistributedSoftmaxCrossEntropy
{
    /// <summary>−ln(1e−30): the per-sample loss of a row whose target probability is (numerically) zero.</summary>
    public const double LossCap = 69.07755278982137;

    /// <summary>
    /// Computes the global mean loss −(1/N)·Σ ln(max(q_i, 1e−30)) (same value on every rank) and overwrites
    /// <paramref name="logits"/> with dL/dlogits = upstream·(p − onehot)/N. Issues, in order: all-reduce MAX [N,1],
    /// all-reduce SUM [N,1], all-reduce SUM [N,1]. <paramref name="labels"/>: int64 [N], local column or −1.
    /// </summary>
    public static float ForwardBackwardInPlace(Tensor logits, Tensor labels, ICollective collective, double upstream = 1.0)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var n = logits.shape[0];
        // K = 0 happens with sample_rate 0 on a rank without positives; the reference would fail in torch.max.
        var maxLogits = logits.shape[1] > 0
            ? logits.amax(new long[] { 1 }, keepdim: true)
            : torch.full(new[] { n, 1L }, float.NegativeInfinity, logits.dtype, logits.device);
        collective.AllReduce(maxLogits, ReduceOp.Max);
        logits.sub_(maxLogits).exp_();
        var sumExp = logits.sum(1, keepdim: true);
        collective.AllReduce(sumExp, ReduceOp.Sum);
        logits.div_(sumExp);

        var (rows, cols) = MarginMath.Positives(labels);
        var target = torch.zeros(new[] { n, 1L }, logits.dtype, logits.device);
        var picked = logits.index(TensorIndex.Tensor(rows), TensorIndex.Tensor(cols));
        target.index_put_(picked.unsqueeze(1), TensorIndex.Tensor(rows));
        collective.AllReduce(target, ReduceOp.Sum);
        var loss = target.clamp_min_(1e-30).log_().mean().neg().item<float>();

        // Backward (no communication): the 1e-30 floor is ignored, the exact softmax gradient is returned.
        logits.index_put_(picked.sub_(1), TensorIndex.Tensor(rows), TensorIndex.Tensor(cols));
        logits.div_(n);
        if (upstream != 1.0) logits.mul_(upstream);
        return loss;
    }
}
