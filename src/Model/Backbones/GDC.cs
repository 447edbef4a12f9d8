using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// MobileFaceNet head (spec §1.4): global 7×7 depthwise LinearBlock → flatten → Linear 512→D (no bias) →
/// BatchNorm1d(D) with a trainable gamma (unlike IResNet's frozen one).
/// </summary>
public sealed class GDC : Module<Tensor, Tensor>
{
    readonly Sequential layers;

    public GDC(long embeddingSize) : base(nameof(GDC))
    {
        layers = Sequential(
            new LinearBlock(512, 512, kernel: 7, stride: 1, padding: 0, groups: 512),
            Flatten(),
            Linear(512, embeddingSize, hasBias: false),
            BatchNorm1d(embeddingSize, eps: 1e-5, momentum: 0.1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => layers.call(x);
}
