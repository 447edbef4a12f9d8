using System.Runtime.Intrinsics;
using ActorFace.Model.Runtime;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// cos = normalize(e) · normalize(c)ᵀ (F.normalize, eps 1e-12; spec §3.4) with the backward written out. Autograd
/// through normalize walks the [K, D] centres about eight times (norm, clamp, expand, div and their backwards) and
/// keeps a normalised copy of them; here the centres are taken in blocks of <see cref="BlockRows"/> rows that stay in
/// the CPU cache: normalise the block, multiply, and in the backward normalise it again (cheaper than storing it),
/// multiply, and one fused pass per row: dx = (dy − y·⟨dy, y⟩) / max(‖x‖, eps). Gradients and cosines differ from
/// autograd's by float rounding only. Tensors belong to the caller's dispose scope; the centres must not change
/// between <see cref="Forward"/> and <see cref="Backward"/>.
/// </summary>
public sealed unsafe class NormalizedCosines
{
    const double Eps = 1e-12;
    const long BlockRows = 4096;

    readonly Tensor unitEmbeddings, embeddingNorms, centres, centreNorms;

    /// <summary>[N, K] cosines (the backward does not read them: callers may overwrite them in place).</summary>
    public Tensor Cosines { get; }

    NormalizedCosines(Tensor unitEmbeddings, Tensor embeddingNorms, Tensor centres, Tensor centreNorms, Tensor cosines) =>
        (this.unitEmbeddings, this.embeddingNorms, this.centres, this.centreNorms, Cosines) =
        (unitEmbeddings, embeddingNorms, centres, centreNorms, cosines);

    public static NormalizedCosines Forward(Tensor embeddings, Tensor centres)
    {
        using var noGrad = torch.no_grad();
        var embeddingNorms = embeddings.norm(1, keepdim: true, p: 2);
        var unitEmbeddings = embeddings.div(embeddingNorms.clamp_min(Eps)).contiguous();
        centres = centres.contiguous();
        var centreNorms = centres.norm(1, keepdim: true, p: 2);
        var cosines = torch.empty(new[] { embeddings.shape[0], centres.shape[0] }, ScalarType.Float32, embeddings.device);
        ForBlocks(centres.shape[0], (start, rows) =>
        {
            var unit = UnitBlock(centres, centreNorms, start, rows);
            cosines.narrow(1, start, rows).copy_(unitEmbeddings.mm(unit.t()));
        });
        return new NormalizedCosines(unitEmbeddings, embeddingNorms, centres, centreNorms, cosines);
    }

    /// <summary>d loss/d embeddings [N, D] and d loss/d centres [K, D] from d loss/d cosines [N, K].</summary>
    public (Tensor Embeddings, Tensor Centres) Backward(Tensor gradCosines)
    {
        using var noGrad = torch.no_grad();
        var g = gradCosines.to_type(ScalarType.Float32);
        var dUnitEmbeddings = torch.zeros_like(unitEmbeddings);
        var dCentres = torch.empty_like(centres);
        ForBlocks(centres.shape[0], (start, rows) =>
        {
            var unit = UnitBlock(centres, centreNorms, start, rows);
            var block = g.narrow(1, start, rows);
            var dBlock = dCentres.narrow(0, start, rows);
            dBlock.addmm_(block.t(), unitEmbeddings, beta: 0, alpha: 1);
            dUnitEmbeddings.addmm_(block, unit);
            UnitRowsBackwardInPlace(dBlock, unit, centreNorms.narrow(0, start, rows));
        });
        UnitRowsBackwardInPlace(dUnitEmbeddings, unitEmbeddings, embeddingNorms);
        return (dUnitEmbeddings, dCentres);
    }

    static Tensor UnitBlock(Tensor centres, Tensor norms, long start, long rows) =>
        centres.narrow(0, start, rows).div(norms.narrow(0, start, rows).clamp_min(Eps));

    static void ForBlocks(long rows, Action<long, long> body)
    {
        for (long start = 0; start < rows; start += BlockRows)
        {
            using var scope = torch.NewDisposeScope();
            body(start, Math.Min(BlockRows, rows - start));
        }
    }

    /// <summary>dy ← (dy − y·⟨dy, y⟩) / ‖x‖ per row (dy / eps for a row whose norm is below eps, as F.normalize's clamp).</summary>
    static void UnitRowsBackwardInPlace(Tensor dy, Tensor y, Tensor norms)
    {
        if (dy.dtype != ScalarType.Float32 || !dy.is_contiguous() || !y.is_contiguous() || !dy.shape.SequenceEqual(y.shape))
            throw new ArgumentException("UnitRowsBackwardInPlace needs contiguous float32 [rows, D] tensors of one shape");
        long rows = dy.shape[0], d = dy.shape[1];
        if (rows == 0 || d == 0) return;
        var normValues = norms.to_type(ScalarType.Float32).contiguous();
        float* g = (float*)TensorMemory.DataPointer(dy), u = (float*)TensorMemory.DataPointer(y), n = (float*)TensorMemory.DataPointer(normValues);
        int parts = (int)Math.Clamp(rows * d / (1 << 15), 1, Math.Max(1, torch.get_num_threads()));
        long per = (rows + parts - 1) / parts;
        Parallel.For(0, parts, part =>
        {
            for (long r = part * per, end = Math.Min(rows, r + per); r < end; r++)
                Row(g + r * d, u + r * d, d, n[r]);
        });
        GC.KeepAlive(normValues);
    }

    static void Row(float* g, float* u, long d, float norm)
    {
        bool clamped = norm < Eps;
        float inv = 1f / (clamped ? (float)Eps : norm);
        float dot = 0;
        long i = 0;
        if (!clamped)
        {
            if (Fma.IsSupported)
            {
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= d; i += 8) acc = Fma.MultiplyAdd(Avx.LoadVector256(g + i), Avx.LoadVector256(u + i), acc);
                dot = Vector256.Sum(acc);
            }
            for (; i < d; i++) dot += g[i] * u[i];
        }
        i = 0;
        if (Fma.IsSupported)
        {
            var (dotV, invV) = (Vector256.Create(-dot), Vector256.Create(inv));
            for (; i + 8 <= d; i += 8)
                Avx.Store(g + i, Avx.Multiply(Fma.MultiplyAdd(Avx.LoadVector256(u + i), dotV, Avx.LoadVector256(g + i)), invV));
        }
        for (; i < d; i++) g[i] = (g[i] - u[i] * dot) * inv;
    }
}
