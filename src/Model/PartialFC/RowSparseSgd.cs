using System.Runtime.Intrinsics;
using ActorFace.Model.Runtime;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// torch.optim.SGD's momentum update (d = g + λp; buf = μ·buf + d; p -= lr·buf — the ops of
/// <see cref="Training.SgdOptimizer"/>) for a shard whose gradient is zero outside <c>rows</c>, bit for bit equal to
/// the dense update. The dense update streams grad, param, buffer and a fresh [num_local, D] temporary through
/// memory about eleven times per step (most of the 5.97 s/step at 1M classes); this one reads param and buffer once
/// and writes them once, never reads the zero gradient rows, and issues no per-block libtorch ops (each of which
/// ends in a thread barrier that a busy machine makes expensive). Unselected rows still get weight decay and
/// momentum (spec §3.7). Rounding follows ATen's float kernels: add with alpha is fma(other, alpha, self), mul_ is a
/// plain product, all scalars cast to float first; the RowSparseSgdTests check the bits.
/// </summary>
public static unsafe class RowSparseSgd
{
    /// <summary>True when the fused kernel can run (contiguous CPU float32); otherwise the caller steps densely.</summary>
    public static bool Supports(Tensor param, Tensor grad, Tensor buffer) =>
        new[] { param, grad, buffer }.All(t => t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous())
        && param.shape.SequenceEqual(buffer.shape) && param.shape.SequenceEqual(grad.shape);

    /// <param name="rows">sorted unique int64 row ids whose gradient may be non-zero, or null when every row may be.</param>
    public static void Step(Tensor param, Tensor grad, Tensor buffer, Tensor? rows, double lr, double momentum, double weightDecay)
    {
        if (!Supports(param, grad, buffer)) throw new ArgumentException("RowSparseSgd needs contiguous CPU float32 param, grad and buffer of one shape");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        bool sparse = rows is not null;
        Tensor? selectedParam = null, selectedBuffer = null;
        if (sparse && rows!.numel() > 0)
        {
            // The selected rows take the ordinary libtorch update on gathered copies, from the pre-step values.
            selectedParam = param.index_select(0, rows);
            selectedBuffer = buffer.index_select(0, rows);
            var d = weightDecay != 0 ? grad.index_select(0, rows).add(selectedParam, alpha: weightDecay) : grad.index_select(0, rows);
            selectedBuffer.mul_(momentum).add_(d);
            selectedParam.add_(selectedBuffer, alpha: -lr);
        }

        long n = param.numel();
        if (n > 0)
        {
            float* p = (float*)TensorMemory.DataPointer(param), b = (float*)TensorMemory.DataPointer(buffer);
            float* g = sparse ? null : (float*)TensorMemory.DataPointer(grad);
            var (wd, m, step) = ((float)weightDecay, (float)momentum, (float)(-lr));
            int parts = (int)Math.Clamp(n / (1 << 16), 1, Math.Max(1, torch.get_num_threads()));
            long per = (n / parts + 7) & ~7L;
            Parallel.For(0, parts, i =>
            {
                long start = Math.Min(n, i * per), end = Math.Min(n, start + per);
                Kernel(p + start, b + start, g == null ? null : g + start, end - start, wd, m, step);
            });
        }

        if (selectedParam is not null)
        {
            param.index_copy_(0, rows!, selectedParam);
            buffer.index_copy_(0, rows!, selectedBuffer!);
        }
    }

    /// <summary>g == null: the gradient is zero (as ATen would see a zero-filled grad).</summary>
    internal static void Kernel(float* p, float* b, float* g, long count, float wd, float m, float step)
    {
        long i = 0;
        if (Fma.IsSupported)
        {
            var (wdV, mV, stepV, one, zero) = (Vector256.Create(wd), Vector256.Create(m), Vector256.Create(step), Vector256.Create(1f), Vector256<float>.Zero);
            for (; i + 8 <= count; i += 8)
            {
                var pv = Avx.LoadVector256(p + i);
                var gv = g == null ? zero : Avx.LoadVector256(g + i);
                var d = wd != 0 ? Fma.MultiplyAdd(pv, wdV, gv) : gv;
                var bv = Fma.MultiplyAdd(d, one, Avx.Multiply(Avx.LoadVector256(b + i), mV));
                Avx.Store(b + i, bv);
                Avx.Store(p + i, Fma.MultiplyAdd(bv, stepV, pv));
            }
        }
        for (; i < count; i++)
        {
            float gi = g == null ? 0f : g[i];
            float d = wd != 0 ? MathF.FusedMultiplyAdd(p[i], wd, gi) : gi;
            float bi = MathF.FusedMultiplyAdd(d, 1f, b[i] * m);
            b[i] = bi;
            p[i] = MathF.FusedMultiplyAdd(bi, step, p[i]);
        }
    }
}
