using System.Runtime.Intrinsics;
using ActorFace.Model.Runtime;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// torch.optim.SGD (momentum μ, weight decay λ) for Partial FC centres whose gradient is zero outside the sampled rows,
/// with the update of every other row deferred until the row is next sampled or the shard is saved.
/// For a row with zero gradient one step is linear in (p, buf): buf' = μ·buf + λ·p; p' = p − lr·buf', that is
/// [p; buf] ← A_t [p; buf] with A_t = [[1 − lr_t·λ, −lr_t·μ], [λ, μ]], so the k steps a row sat out are one 2×2
/// product (in double) applied when the row is needed. The mathematics is the dense update of arcface_torch (spec
/// §3.7: weight decay and momentum move unsampled rows); only float rounding differs. A step then costs the sampled
/// rows instead of streaming all of the shard's centres and momentum through memory (0.87 s of the 2.55 s step at
/// 1M classes, sample rate 0.1). Rows are updated in place through raw pointers: libtorch's index_copy_ on CPU
/// costs microseconds per row.
/// </summary>
public sealed unsafe class DeferredRowSgd
{
    /// <summary>Steps of history kept before every row is brought up to date (bounds the product loop).</summary>
    const int MaxDeferredSteps = 4096;

    readonly Tensor param;
    readonly SgdOptimizer optimizer;
    readonly long[] currentAfter; // the optimiser step after which each row is up to date
    readonly List<double> learningRates = new(); // learningRates[i] = lr of step baseStep + 1 + i
    readonly long width;
    long step, baseStep;

    public DeferredRowSgd(Tensor param, SgdOptimizer optimizer)
    {
        if (param.dim() != 2 || param.dtype != ScalarType.Float32 || !param.is_contiguous() || param.device_type != DeviceType.CPU)
            throw new ArgumentException("DeferredRowSgd needs a contiguous CPU float32 [rows, D] parameter");
        (this.param, this.optimizer, width) = (param, optimizer, param.shape[1]);
        currentAfter = new long[param.shape[0]];
    }

    float* Param => (float*)TensorMemory.DataPointer(param);
    // Created on first use; replaced by SetState when a checkpoint is loaded, so it is looked up every time.
    float* Buffer => (float*)TensorMemory.DataPointer(optimizer.MomentumBuffer(0));

    /// <summary>Brings <paramref name="rows"/> (int64 row ids, no duplicates) up to date: applies the steps they sat out.</summary>
    public void CatchUp(Tensor rows) => CatchUp(RowIds(rows));

    void CatchUp(long[] rows)
    {
        if (rows.Length == 0 || step == baseStep) return;
        var oldest = step;
        foreach (var r in rows) oldest = Math.Min(oldest, currentAfter[r]);
        if (oldest == step) return;
        var table = SkippedStepProducts(oldest);
        float* p = Param, b = Buffer;
        ForChunks(rows.Length, (from, to) =>
        {
            for (var i = from; i < to; i++)
            {
                var r = rows[i];
                if (currentAfter[r] == step) continue;
                var at = (currentAfter[r] - oldest) * 4;
                Combine(p + r * width, b + r * width, width, (float)table[at], (float)table[at + 1], (float)table[at + 2], (float)table[at + 3]);
                currentAfter[r] = step;
            }
        });
    }

    /// <summary>table[(s − oldest)·4 ..] = A_step · … · A_{s+1}, row-major: what a row current after step s needs.</summary>
    double[] SkippedStepProducts(long oldest)
    {
        double lambda = optimizer.WeightDecay, mu = optimizer.Momentum;
        var table = new double[(step - oldest + 1) * 4];
        double p00 = 1, p01 = 0, p10 = 0, p11 = 1;
        table[^4] = 1; table[^1] = 1;
        for (var k = step; k > oldest; k--)
        {
            var lr = learningRates[(int)(k - baseStep - 1)];
            double a00 = 1 - lr * lambda, a01 = -lr * mu, a10 = lambda, a11 = mu;
            (p00, p01, p10, p11) = (p00 * a00 + p01 * a10, p00 * a01 + p01 * a11, p10 * a00 + p11 * a10, p10 * a01 + p11 * a11);
            var at = (k - 1 - oldest) * 4;
            (table[at], table[at + 1], table[at + 2], table[at + 3]) = (p00, p01, p10, p11);
        }
        return table;
    }

    /// <summary>(p, b) ← (c00·p + c01·b, c10·p + c11·b) over one row.</summary>
    static void Combine(float* p, float* b, long d, float c00, float c01, float c10, float c11)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (v00, v01, v10, v11) = (Vector256.Create(c00), Vector256.Create(c01), Vector256.Create(c10), Vector256.Create(c11));
            for (; i + 8 <= d; i += 8)
            {
                var (pv, bv) = (Vector256.Load(p + i), Vector256.Load(b + i));
                (pv * v00 + bv * v01).Store(p + i);
                (pv * v10 + bv * v11).Store(b + i);
            }
        }
        for (; i < d; i++) (p[i], b[i]) = (c00 * p[i] + c01 * b[i], c10 * p[i] + c11 * b[i]);
    }

    /// <summary>
    /// One optimiser step: the sampled <paramref name="rows"/> (unique int64 ids) take the torch.optim.SGD update with
    /// their gradient rows <paramref name="grads"/> [rows, D] (after catching up); every other row defers it.
    /// </summary>
    public void Step(Tensor rows, Tensor grads, double lr)
    {
        var ids = RowIds(rows);
        if (ids.Length > 0 && (grads.dtype != ScalarType.Float32 || !grads.is_contiguous() || grads.shape[0] != ids.Length || grads.shape[1] != width))
            throw new ArgumentException($"DeferredRowSgd: gradients must be contiguous float32 [{ids.Length}, {width}]");
        CatchUp(ids);
        step++;
        if (ids.Length > 0)
        {
            float* p = Param, b = Buffer, g = (float*)TensorMemory.DataPointer(grads);
            var (wd, m, minusLr) = ((float)optimizer.WeightDecay, (float)optimizer.Momentum, (float)(-lr));
            ForChunks(ids.Length, (from, to) =>
            {
                for (var i = from; i < to; i++)
                {
                    RowSparseSgd.Kernel(p + ids[i] * width, b + ids[i] * width, g + i * width, width, wd, m, minusLr);
                    currentAfter[ids[i]] = step;
                }
            });
        }
        learningRates.Add(lr);
        if (learningRates.Count >= MaxDeferredSteps) Flush();
    }

    /// <summary>Brings every row up to date (before the centres are saved or read as a whole).</summary>
    public void Flush()
    {
        if (step == baseStep) return;
        var all = new long[currentAfter.Length];
        for (long r = 0; r < all.Length; r++) all[r] = r;
        CatchUp(all);
        Reset();
    }

    /// <summary>Declares every row up to date (after the centres and momentum were loaded from a checkpoint).</summary>
    public void Reset()
    {
        baseStep = step;
        learningRates.Clear();
        Array.Fill(currentAfter, step);
    }

    long[] RowIds(Tensor rows)
    {
        var ids = rows.to_type(ScalarType.Int64).data<long>().ToArray();
        foreach (var r in ids)
            if ((ulong)r >= (ulong)currentAfter.Length)
                throw new ArgumentOutOfRangeException(nameof(rows), r, $"row id outside [0, {currentAfter.Length})");
        return ids;
    }

    static void ForChunks(long count, Action<long, long> body)
    {
        int parts = (int)Math.Clamp(count / 1024, 1, Math.Max(1, torch.get_num_threads()));
        long per = (count + parts - 1) / parts;
        Parallel.For(0, parts, i => body(i * per, Math.Min(count, (i + 1) * per)));
    }
}
