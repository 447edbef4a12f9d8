using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

/// <summary>
/// Backbone gradient averaging and clipping. Gradients are packed into flat buckets (one collective call per bucket,
/// not per parameter), as DDP does.
/// </summary>
public static class GradientSync
{
    /// <summary>
    /// Replaces every gradient by its average over ranks. Parameters without a gradient contribute zeros and stay
    /// without one. With <see cref="GradientCompression.Float16"/> each bucket is rounded as arcface_torch's hook does
    /// (cast to float16, ÷W in float16); the sum itself then runs in float32 (the reference sums in float16).
    /// </summary>
    public static void AllReduceAverage(IReadOnlyList<Tensor> parameters, ICollective collective, GradientCompression compression, long bucketBytes)
    {
        using var noGrad = torch.no_grad();
        var bucket = new List<Tensor>();
        long bytes = 0;
        foreach (var p in parameters)
        {
            var size = p.numel() * 4;
            if (bucket.Count > 0 && bytes + size > bucketBytes)
            {
                ReduceBucket(bucket, collective, compression);
                bucket.Clear();
                bytes = 0;
            }
            bucket.Add(p);
            bytes += size;
        }
        if (bucket.Count > 0) ReduceBucket(bucket, collective, compression);
    }

    static void ReduceBucket(List<Tensor> bucket, ICollective collective, GradientCompression compression)
    {
        using var scope = torch.NewDisposeScope();
        var flat = torch.cat(bucket.Select(p => (p.grad ?? torch.zeros_like(p)).reshape(-1).to_type(ScalarType.Float32)).ToList(), 0);
        var w = collective.WorldSize;
        if (compression == GradientCompression.Float16)
        {
            flat = flat.to_type(ScalarType.Float16).div_(w).to_type(ScalarType.Float32);
            collective.AllReduce(flat, ReduceOp.Sum);
        }
        else
        {
            collective.AllReduce(flat, ReduceOp.Sum);
            if (w != 1) flat.div_(w);
        }
        long offset = 0;
        foreach (var p in bucket)
        {
            var n = p.numel();
            p.grad?.copy_(flat.narrow(0, offset, n).view(p.shape));
            offset += n;
        }
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_(max_norm, L2): total norm over all gradients, each multiplied by
    /// min(1, max_norm / (norm + 1e−6)). Returns the norm before clipping.
    /// </summary>
    public static double ClipGradNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Where(p => p.grad is not null).Select(p => p.grad!).ToList();
        if (grads.Count == 0) return 0;
        var total = torch.stack(grads.Select(g => g.norm()).ToList()).norm();
        var coef = (maxNorm / (total + 1e-6)).clamp_max(1.0);
        foreach (var g in grads) g.mul_(coef);
        return total.item<float>();
    }
}
