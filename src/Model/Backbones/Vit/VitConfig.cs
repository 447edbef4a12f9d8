namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// One of arcface_torch's ViT variants (spec §1.1/§1.5): 112×112 input, 9×9 patches (144 tokens), 8 heads, MLP ratio
/// 4, LayerNorm. <paramref name="UsingCheckpoint"/> recomputes each block's activations in backward (training only).
/// </summary>
public sealed record VitConfig(long EmbedDim, int Depth, double DropPathRate, double MaskRatio, bool UsingCheckpoint,
    int NumHeads = 8, long ImgSize = 112, long PatchSize = 9, double MlpRatio = 4)
{
    /// <summary>The reference's get_model table; null for a name that is not a ViT.</summary>
    public static VitConfig? For(string network) => network switch
    {
        "vit_t" => new(256, 12, 0.1, 0.1, false),
        "vit_t_dp005_mask0" => new(256, 12, 0.05, 0.0, false),
        "vit_s" => new(512, 12, 0.1, 0.1, false),
        "vit_s_dp005_mask_0" => new(512, 12, 0.05, 0.0, false),
        "vit_b" => new(512, 24, 0.1, 0.1, true),
        "vit_b_dp005_mask_005" => new(512, 24, 0.05, 0.05, true),
        "vit_l_dp005_mask_005" => new(768, 24, 0.05, 0.05, true),
        "vit_h" => new(1024, 48, 0.1, 0.0, true),
        _ => null,
    };

    public static IReadOnlyList<string> Names { get; } =
        ["vit_t", "vit_t_dp005_mask0", "vit_s", "vit_s_dp005_mask_0", "vit_b", "vit_b_dp005_mask_005", "vit_l_dp005_mask_005", "vit_h"];

    public long NumPatches => (ImgSize / PatchSize) * (ImgSize / PatchSize);

    /// <summary>
    /// Multiply-accumulates per image (patch conv, attention projections and products, MLP, head), the count the
    /// reference's README quotes (1.5 / 5.7 / 11.4 / 25.3 G for T / S / B / L).
    /// </summary>
    public double GigaMacs(long numFeatures = 512)
    {
        double l = NumPatches, d = EmbedDim, hidden = d * MlpRatio;
        var perBlock = l * (3 * d * d + d * d + 2 * d * hidden) + 2 * l * l * d;
        var macs = l * d * 3 * PatchSize * PatchSize + Depth * perBlock + l * d * d + d * numFeatures;
        return macs / 1e9;
    }
}
