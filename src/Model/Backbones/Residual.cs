using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>MobileFaceNet Residual (spec §1.4): <c>numBlock</c> stride-1 residual DepthWise blocks c → c.</summary>
public sealed class Residual : Module<Tensor, Tensor>
{
    readonly Sequential layers;

    public Residual(long c, int numBlock, long groups, long kernel = 3, long stride = 1, long padding = 1)
        : base(nameof(Residual))
    {
        layers = Sequential();
        for (var i = 0; i < numBlock; i++)
            layers.append(new DepthWise(c, c, residual: true, kernel, stride, padding, groups));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => layers.call(x);
}
