using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Non-overlapping patch projection: Conv2d(3→dim, patch, stride patch) then [n, dim, 12, 12] → [n, 144, dim].
/// With 112 pixels and 9-pixel patches the last 4 rows/columns are never seen, as in the reference.
/// </summary>
public sealed class PatchEmbed : Module<Tensor, Tensor>
{
    readonly Conv2d proj;
    readonly long imgSize;

    public PatchEmbed(long imgSize, long patchSize, long inChannels, long embedDim) : base(nameof(PatchEmbed))
    {
        this.imgSize = imgSize;
        proj = Conv2d(inChannels, embedDim, patchSize, stride: patchSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (x.ndim != 4 || x.shape[2] != imgSize || x.shape[3] != imgSize)
            throw new ArgumentException($"ViT expects [n, 3, {imgSize}, {imgSize}] input, got [{string.Join(", ", x.shape)}]");
        using var y = proj.call(x);
        using var flat = y.flatten(2);
        return flat.transpose(1, 2);
    }
}
