using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// arcface_torch's face ViT (spec §1.5): patch embedding + learned position embedding (no class token), pre-norm
/// blocks, final LayerNorm, and the flatten → Linear → BN1d → Linear → BN1d feature head. In training only, a random
/// subset of tokens is dropped before the blocks (<see cref="TokenMasking"/>) and a learned mask token fills their
/// places after the final norm; drop path is active in training only. Field order = PyTorch state_dict order.
/// </summary>
/// <remarks>
/// The reference calls <c>random_masking(x)</c> without its ratio, so every ViT with mask_ratio &gt; 0 actually drops
/// 10 % of tokens there; here the configured ratio is used (0.05 for the *_mask_005 variants), which is what the
/// names promise. With <c>fp16</c> the blocks' projections and MLP run in half precision as under the reference's
/// autocast, everything else in float32.
/// </remarks>
public sealed class VisionTransformer : Module<Tensor, Tensor>
{
    readonly Parameter pos_embed;
    readonly Parameter mask_token;
    readonly PatchEmbed patch_embed;
    readonly ModuleList<Block> blocks;
    readonly LayerNorm norm;
    readonly Sequential feature;

    public VitConfig Config { get; }
    public long NumFeatures { get; }
    public bool Fp16 { get; }

    /// <summary>Recompute each block in backward instead of keeping its activations (the reference's using_checkpoint).</summary>
    public bool UsingCheckpoint { get; set; }

    public VisionTransformer(VitConfig config, long numFeatures = 512, bool fp16 = false) : base(nameof(VisionTransformer))
    {
        if (numFeatures < 1) throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, "must be positive");
        if (config.MaskRatio is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(config), config.MaskRatio, "mask ratio must be in [0, 1)");
        Config = config;
        NumFeatures = numFeatures;
        Fp16 = fp16;
        UsingCheckpoint = config.UsingCheckpoint;
        long dim = config.EmbedDim, patches = config.NumPatches;

        pos_embed = new Parameter(zeros(1, patches, dim));
        mask_token = new Parameter(zeros(1, 1, dim));
        patch_embed = new PatchEmbed(config.ImgSize, config.PatchSize, 3, dim);
        // Stochastic depth grows linearly from 0 at the first block to drop_path_rate at the last.
        var rates = Enumerable.Range(0, config.Depth)
            .Select(i => config.Depth == 1 ? 0 : config.DropPathRate * i / (config.Depth - 1));
        blocks = new ModuleList<Block>(rates.Select(p => new Block(dim, config.NumHeads, config.MlpRatio, p, fp16)).ToArray());
        norm = LayerNorm(dim, eps: 1e-5);
        feature = Sequential(
            Linear(dim * patches, dim, hasBias: false),
            BatchNorm1d(dim, eps: 2e-5, momentum: 0.1),
            Linear(dim, numFeatures, hasBias: false),
            BatchNorm1d(numFeatures, eps: 2e-5, momentum: 0.1));
        RegisterComponents();
        Initialise();
    }

    void Initialise()
    {
        using var _ = no_grad();
        init.normal_(mask_token, 0, 0.02);
        TruncatedNormal(pos_embed, 0.02);
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Linear lin:
                    TruncatedNormal(lin.weight!, 0.02);
                    if (lin.bias is not null) init.zeros_(lin.bias);
                    break;
                case LayerNorm ln:
                    init.ones_(ln.weight);
                    init.zeros_(ln.bias);
                    break;
            }
        }
    }

    /// <summary>
    /// timm's trunc_normal_(std, a = −2, b = 2) by inverse CDF: uniform in (−1, 1), erfinv, scaled, clamped to the
    /// absolute bounds. (TorchSharp 0.107's init.trunc_normal_ returned near-zero or NaN values here.)
    /// </summary>
    static void TruncatedNormal(Tensor t, double std, double a = -2, double b = 2)
    {
        t.uniform_(-1, 1).erfinv_().mul_(std * Math.Sqrt(2)).clamp_(a, b);
    }

    /// <summary>The blocks in order (read by the ONNX exporter).</summary>
    public IReadOnlyList<Block> Blocks => blocks.ToList();

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0];
        var h = patch_embed.call(x) + pos_embed;
        var masking = training && Config.MaskRatio > 0 ? TokenMasking.Draw(h.shape[0], h.shape[1], Config.MaskRatio, h.device) : null;
        if (masking is not null) h = masking.Keep(h);
        foreach (var block in blocks)
            h = UsingCheckpoint && training && is_grad_enabled() ? BlockCheckpoint.Run(block, h) : block.call(h);
        // float32 from here on (the reference's x.float()), unless the whole module was cast (trainer bf16 mode).
        h = norm.call(h.to(norm.weight!.dtype));
        if (masking is not null) h = masking.Restore(h, mask_token);
        h = h.reshape(batch, Config.NumPatches * Config.EmbedDim);
        h = feature.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
