using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// MobileFaceNet inverted bottleneck (spec §1.4): 1×1 expand to <c>groups</c> channels, k×k depthwise (carries
/// the stride), 1×1 linear projection; the input is added back when <c>residual</c>.
/// </summary>
public sealed class DepthWise : Module<Tensor, Tensor>
{
    readonly Sequential layers;
    readonly bool residual;

    public DepthWise(long inC, long outC, bool residual = false, long kernel = 3, long stride = 2, long padding = 1, long groups = 1)
        : base(nameof(DepthWise))
    {
        this.residual = residual;
        layers = Sequential(
            new ConvBlock(inC, groups, kernel: 1, stride: 1, padding: 0),
            new ConvBlock(groups, groups, kernel, stride, padding, groups: groups),
            new LinearBlock(groups, outC, kernel: 1, stride: 1, padding: 0));
        RegisterComponents();
    }

    /// <summary>Whether the block adds its input back (read by the ONNX exporter).</summary>
    public bool IsResidual => residual;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = layers.call(x);
        return (residual ? y.Then(h => x + h) : y).MoveToOuterDisposeScope();
    }
}
