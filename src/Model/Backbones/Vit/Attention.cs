using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Multi-head self-attention: qkv Linear without bias, scores (q·kᵀ)·head_dim^-½ and softmax always in float32 (the
/// reference leaves autocast there), output projection with bias. The projections follow the input's dtype, so
/// half-precision input runs them in half, as the reference's autocast regions do.
/// </summary>
public sealed class Attention : Module<Tensor, Tensor>
{
    readonly Linear qkv;
    readonly Linear proj;
    readonly long numHeads;
    readonly double scale;

    public Attention(long dim, long numHeads) : base(nameof(Attention))
    {
        if (dim % numHeads != 0) throw new ArgumentException($"embed dim {dim} is not divisible by {numHeads} heads");
        this.numHeads = numHeads;
        scale = Math.Pow(dim / numHeads, -0.5);
        qkv = Linear(dim, dim * 3, hasBias: false);
        proj = Linear(dim, dim);
        RegisterComponents();
    }

    public long NumHeads => numHeads;
    public double Scale => scale;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        var dtype = x.dtype;
        var parts = MixedPrecision.Linear(qkv, x).reshape(b, n, 3, numHeads, c / numHeads).permute(2, 0, 3, 1, 4);
        var q = parts[0].to(ScalarType.Float32);
        var k = parts[1].to(ScalarType.Float32);
        var v = parts[2].to(ScalarType.Float32);
        var attn = q.matmul(k.transpose(-2, -1)) * scale;
        attn = attn.softmax(-1);
        var h = attn.matmul(v).transpose(1, 2).reshape(b, n, c);
        h = MixedPrecision.Linear(proj, h.to(dtype));
        return h.MoveToOuterDisposeScope();
    }
}
