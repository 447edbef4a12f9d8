using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// arcface_torch's pre-activation residual block (spec §1.2): bn1 → conv1 → bn2 → prelu → conv2(stride) → bn3,
/// plus the shortcut taken from the raw input, with no activation after the sum. Field order = state_dict order.
/// </summary>
public sealed class IBasicBlock : Module<Tensor, Tensor>
{
    readonly BatchNorm2d bn1;
    readonly Conv2d conv1;
    readonly BatchNorm2d bn2;
    readonly PReLU prelu;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn3;
    readonly Sequential? downsample;

    public IBasicBlock(long inplanes, long planes, long stride, bool withDownsample) : base(nameof(IBasicBlock))
    {
        bn1 = BatchNorm2d(inplanes, eps: 1e-5, momentum: 0.1);
        conv1 = Conv2d(inplanes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes, eps: 1e-5, momentum: 0.1);
        prelu = PReLU(planes, init: 0.25);
        conv2 = Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn3 = BatchNorm2d(planes, eps: 1e-5, momentum: 0.1);
        if (withDownsample)
            downsample = Sequential(
                Conv2d(inplanes, planes, 1, stride: stride, bias: false),
                BatchNorm2d(planes, eps: 1e-5, momentum: 0.1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = MixedPrecision.Norm(bn1, x)
            .Then(h => MixedPrecision.Conv(conv1, h))
            .Then(h => MixedPrecision.Norm(bn2, h))
            .Then(h => MixedPrecision.PRelu(prelu, h))
            .Then(h => MixedPrecision.Conv(conv2, h))
            .Then(h => MixedPrecision.Norm(bn3, h));
        if (downsample is null) return y.Then(h => h + x).MoveToOuterDisposeScope();
        var shortcut = Shortcut(x);
        return y.Then(h => h + shortcut).MoveToOuterDisposeScope();
    }

    Tensor Shortcut(Tensor x)
    {
        var conv = (Conv2d)downsample![0];
        var norm = (BatchNorm2d)downsample[1];
        return MixedPrecision.Conv(conv, x).Then(h => MixedPrecision.Norm(norm, h));
    }
}
