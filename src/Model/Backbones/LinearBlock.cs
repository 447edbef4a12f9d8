using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>MobileFaceNet LinearBlock (spec §1.4): layers = [Conv2d (no bias), BatchNorm2d], no activation.</summary>
public sealed class LinearBlock : Module<Tensor, Tensor>
{
    readonly Sequential layers;

    public LinearBlock(long inC, long outC, long kernel = 1, long stride = 1, long padding = 0, long groups = 1)
        : base(nameof(LinearBlock))
    {
        layers = Sequential(
            Conv2d(inC, outC, kernel, stride: stride, padding: padding, groups: groups, bias: false),
            BatchNorm2d(outC, eps: 1e-5, momentum: 0.1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return MixedPrecision.Conv((Conv2d)layers[0], x)
            .Then(h => MixedPrecision.Norm((BatchNorm2d)layers[1], h))
            .MoveToOuterDisposeScope();
    }
}
