using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Tests.Training;

/// <summary>A few-hundred-parameter stand-in for a face backbone: [B,3,8,8] -> [B,D]. No BatchNorm by default, so a
/// batch split across ranks computes exactly what one rank computes on the whole batch.</summary>
internal sealed class TinyBackbone : Module<Tensor, Tensor>
{
    readonly Conv2d conv;
    readonly PReLU act;
    readonly Linear fc;

    public TinyBackbone(int embeddingSize) : base(nameof(TinyBackbone))
    {
        conv = Conv2d(3, 4, 3, stride: 2, padding: 1);
        act = PReLU(4);
        fc = Linear(4 * 4 * 4, embeddingSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.forward(act.forward(conv.forward(x)).flatten(1));

    public static TinyBackbone Seeded(int embeddingSize, long seed)
    {
        var m = new TinyBackbone(embeddingSize);
        var g = new Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var p in m.parameters()) p.copy_(torch.randn(p.shape, generator: g).mul_(0.3));
        return m;
    }

    public void CopyFrom(Module<Tensor, Tensor> other)
    {
        using var noGrad = torch.no_grad();
        foreach (var (a, b) in parameters().Zip(other.parameters())) a.copy_(b);
    }
}
