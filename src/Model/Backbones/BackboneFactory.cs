using ActorFace.Model.Backbones.Vit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>arcface_torch's get_model (spec §1.1) for the IResNet, MobileFaceNet and ViT families.</summary>
public static class BackboneFactory
{
    public static IReadOnlyList<string> Networks { get; } =
        ["r18", "r34", "r50", "r100", "r200", "mbf", "mbf_large", .. VitConfig.Names];

    public static Module<Tensor, Tensor> Create(string network, int numFeatures = 512, double dropout = 0, bool fp16 = false) =>
        network switch
        {
            "r18" => new IResNet([2, 2, 2, 2], numFeatures, dropout, fp16),
            "r34" => new IResNet([3, 4, 6, 3], numFeatures, dropout, fp16),
            "r50" => new IResNet([3, 4, 14, 3], numFeatures, dropout, fp16),
            "r100" => new IResNet([3, 13, 30, 3], numFeatures, dropout, fp16),
            "r200" => new IResNet([6, 26, 60, 6], numFeatures, dropout, fp16),
            // get_model ignores dropout for MobileFaceNet.
            "mbf" => new MobileFaceNet([1, 4, 6, 2], scale: 2, numFeatures, fp16),
            "mbf_large" => new MobileFaceNet([2, 8, 12, 4], scale: 4, numFeatures, fp16),
            // get_model ignores dropout for the ViTs too; fp16 runs the blocks' projections and MLP in half precision.
            _ when VitConfig.For(network) is { } vit => new VisionTransformer(vit, numFeatures, fp16),
            _ => throw new ArgumentException(
                $"unknown network '{network}'; expected one of {string.Join(", ", Networks)} (note: 'iresnet50' is not a valid name, use 'r50')",
                nameof(network)),
        };
}
