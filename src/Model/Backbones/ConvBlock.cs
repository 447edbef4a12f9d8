using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>MobileFaceNet ConvBlock (spec §1.4): layers = [Conv2d (no bias), BatchNorm2d, PReLU].</summary>
public sealed class ConvBlock : Module<Tensor, Tensor>
{
    readonly Sequential layers;

    public ConvBlock(long inC, long outC, long kernel = 1, long stride = 1, long padding = 0, long groups = 1)
        : base(nameof(ConvBlock))
    {
        layers = Sequential(
            Conv2d(inC, outC, kernel, stride: stride, padding: padding, groups: groups, bias: false),
            BatchNorm2d(outC, eps: 1e-5, momentum: 0.1),
            PReLU(outC, init: 0.25));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return MixedPrecision.Conv((Conv2d)layers[0], x)
            .Then(h => MixedPrecision.Norm((BatchNorm2d)layers[1], h))
            .Then(h => MixedPrecision.PRelu((PReLU)layers[2], h))
            .MoveToOuterDisposeScope();
    }
}
