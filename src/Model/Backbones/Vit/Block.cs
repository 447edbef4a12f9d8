using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Pre-norm transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))). The residual stream
/// stays float32; with <c>half</c> set the attention projections and the MLP run in half precision (LayerNorm in
/// float32), mirroring the reference's autocast regions. Registration order = state_dict order (norm1, norm2, attn, mlp).
/// </summary>
public sealed class Block : Module<Tensor, Tensor>
{
    readonly LayerNorm norm1;
    readonly LayerNorm norm2;
    readonly Attention attn;
    readonly DropPath drop_path;
    readonly Mlp mlp;
    readonly bool half;

    /// <param name="half">run the projections and MLP in half precision (float16 on CUDA, bfloat16 on CPU)</param>
    public Block(long dim, long numHeads, double mlpRatio, double dropPath, bool half) : base(nameof(Block))
    {
        norm1 = LayerNorm(dim, eps: 1e-5);
        norm2 = LayerNorm(dim, eps: 1e-5);
        attn = new Attention(dim, numHeads);
        drop_path = new DropPath(dropPath);
        mlp = new Mlp(dim, (long)(dim * mlpRatio));
        this.half = half;
        RegisterComponents();
    }

    public double DropPathRate => drop_path.P;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = attn.call(Half(norm1.call(x)));
        x = x + drop_path.call(a).to(x.dtype);
        var m = mlp.call(Half(norm2.call(x)));
        x = x + drop_path.call(m).to(x.dtype);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Forward with drop path drawing from a generator seeded with <paramref name="seed"/> (for checkpointing).</summary>
    public Tensor CallSeeded(Tensor x, long seed)
    {
        using var generator = new Generator((ulong)seed, x.device);
        drop_path.Generator = generator;
        try { return call(x); }
        finally { drop_path.Generator = null; }
    }

    Tensor Half(Tensor x) => half ? x.to(MixedPrecision.HalfTypeFor(x.device)) : x;
}
