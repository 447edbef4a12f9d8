using static TorchSharp.torch;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Per-sample random token masking (the reference's random_masking): argsort of uniform noise picks which
/// ⌊L·(1−ratio)⌋ tokens each sample keeps; <see cref="Restore"/> puts a mask token at the dropped positions and
/// unshuffles back to the original token order.
/// </summary>
public sealed class TokenMasking
{
    readonly Tensor idsKeep;     // [n, keep]
    readonly Tensor idsRestore;  // [n, L]

    TokenMasking(Tensor idsKeep, Tensor idsRestore)
    {
        this.idsKeep = idsKeep;
        this.idsRestore = idsRestore;
    }

    public long KeptTokens => idsKeep.shape[1];

    /// <summary>Draws the per-sample permutation; its tensors live in the caller's dispose scope.</summary>
    public static TokenMasking Draw(long batch, long tokens, double ratio, Device device)
    {
        var keep = (long)(tokens * (1 - ratio));
        var noise = rand(batch, tokens, device: device);
        var idsShuffle = noise.argsort(1);
        var idsRestore = idsShuffle.argsort(1);
        return new TokenMasking(idsShuffle[.., ..(int)keep], idsRestore);
    }

    /// <summary>[n, L, D] → the kept tokens [n, keep, D], in shuffled order.</summary>
    public Tensor Keep(Tensor x) =>
        x.gather(1, idsKeep.unsqueeze(-1).expand(-1, -1, x.shape[2]));

    /// <summary>[n, keep, D] → [n, L, D] with <paramref name="maskToken"/> [1, 1, D] at every dropped position.</summary>
    public Tensor Restore(Tensor x, Tensor maskToken)
    {
        long n = x.shape[0], d = x.shape[2], dropped = idsRestore.shape[1] - x.shape[1];
        var filler = maskToken.expand(n, dropped, d);
        var all = cat([x, filler], 1);
        return all.gather(1, idsRestore.unsqueeze(-1).expand(-1, -1, d));
    }
}
