using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// torch.optim.SGD's momentum update (d = g + λp; buf = μ·buf + d; p -= lr·buf — the same ops as
/// <see cref="Training.SgdOptimizer"/>) for a shard whose gradient is known to be zero outside <c>rows</c>, bit for
/// bit equal to the dense update. The dense update streams grad, param, buffer and a fresh [num_local, D] temporary
/// through memory several times (5.97 s/step at 1M classes, most of it here); this one never reads the zero rows of
/// the gradient and keeps its temporaries in cache by walking the shard in row blocks. Unselected rows still get
/// weight decay and momentum (spec §3.7).
/// </summary>
public static class RowSparseSgd
{
    /// <summary>Rows per block: 1024 x 512 floats = 2 MiB, large enough for libtorch's two-thread split, small enough for L2/L3.</summary>
    public const long BlockElements = 1 << 19;

    /// <param name="rows">sorted unique int64 row ids whose gradient may be non-zero, or null when every row may be.</param>
    public static void Step(Tensor param, Tensor grad, Tensor buffer, Tensor? rows, double lr, double momentum, double weightDecay)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        long n = param.shape[0];
        long rowElements = Math.Max(1, param.numel() / Math.Max(1, n));
        long block = Math.Max(1, BlockElements / rowElements);

        Tensor? selectedParam = null, selectedBuffer = null;
        if (rows is not null && rows.numel() > 0)
        {
            // The selected rows take the ordinary update on gathered copies, from the pre-step values.
            selectedParam = param.index_select(0, rows);
            selectedBuffer = buffer.index_select(0, rows);
            Update(selectedParam, grad.index_select(0, rows), selectedBuffer, lr, momentum, weightDecay);
        }

        // A zero block stands for the zero gradient rows, so the very same kernels (same rounding) run on them.
        var zeros = rows is null ? null : torch.zeros(new[] { Math.Min(block, n) }.Concat(param.shape.Skip(1)).ToArray(), param.dtype, param.device);
        for (long start = 0; start < n; start += block)
        {
            using var blockScope = torch.NewDisposeScope();
            long len = Math.Min(block, n - start);
            var g = zeros is null ? grad.narrow(0, start, len) : zeros.narrow(0, 0, len);
            Update(param.narrow(0, start, len), g, buffer.narrow(0, start, len), lr, momentum, weightDecay);
        }

        if (rows is not null && rows.numel() > 0)
        {
            param.index_copy_(0, rows, selectedParam!);
            buffer.index_copy_(0, rows, selectedBuffer!);
        }
    }

    static void Update(Tensor param, Tensor grad, Tensor buffer, double lr, double momentum, double weightDecay)
    {
        var d = weightDecay != 0 ? grad.add(param, alpha: weightDecay) : grad;
        buffer.mul_(momentum).add_(d);
        param.add_(buffer, alpha: -lr);
    }
}
