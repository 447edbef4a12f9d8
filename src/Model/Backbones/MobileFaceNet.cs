using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// arcface_torch's MobileFaceNet (spec §1.4). The group counts 64/128/256/512 are fixed numbers independent of
/// <c>scale</c>, as in the original. With fp16 only <c>layers</c> runs in half precision; conv_sep and the
/// GDC head run in float32.
/// </summary>
public sealed class MobileFaceNet : Module<Tensor, Tensor>
{
    readonly ModuleList<Module<Tensor, Tensor>> layers;
    readonly ConvBlock conv_sep;
    readonly GDC features;

    public bool Fp16 { get; }
    public long NumFeatures { get; }

    public MobileFaceNet(IReadOnlyList<int> blocks, long scale = 2, long numFeatures = 512, bool fp16 = false)
        : base(nameof(MobileFaceNet))
    {
        if (blocks.Count != 4 || blocks.Any(b => b < 1))
            throw new ArgumentException($"MobileFaceNet needs 4 positive stage sizes, got [{string.Join(", ", blocks)}]", nameof(blocks));
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "must be positive");
        if (numFeatures < 1) throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, "must be positive");
        Fp16 = fp16;
        NumFeatures = numFeatures;
        long c1 = 64 * scale, c2 = 128 * scale;

        layers = new ModuleList<Module<Tensor, Tensor>>(
            new ConvBlock(3, c1, kernel: 3, stride: 2, padding: 1),
            blocks[0] == 1
                ? new ConvBlock(c1, c1, kernel: 3, stride: 1, padding: 1, groups: 64)
                : new Residual(c1, blocks[0], groups: 128),
            new DepthWise(c1, c1, kernel: 3, stride: 2, padding: 1, groups: 128),
            new Residual(c1, blocks[1], groups: 128),
            new DepthWise(c1, c2, kernel: 3, stride: 2, padding: 1, groups: 256),
            new Residual(c2, blocks[2], groups: 256),
            new DepthWise(c2, c2, kernel: 3, stride: 2, padding: 1, groups: 512),
            new Residual(c2, blocks[3], groups: 256));
        conv_sep = new ConvBlock(c2, 512, kernel: 1, stride: 1, padding: 0);
        features = new GDC(numFeatures);
        RegisterComponents();
        Initialise();
    }

    void Initialise()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                // kaiming-normal fan_out/ReLU; for grouped convs the fan ignores groups, as PyTorch's does.
                case Conv2d conv: init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU); break;
                case Linear lin: init.kaiming_normal_(lin.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU); break;
                case BatchNorm2d bn: init.ones_(bn.weight); init.zeros_(bn.bias); break;
            }
        }
    }

    /// <summary>Whether training runs the trunk channels-last on CPU (inference always does): <see cref="ChannelsLast"/>.</summary>
    public bool ChannelsLastInTraining { get; set; } = ChannelsLast.ForTraining;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Fp16 ? x.to(MixedPrecision.HalfTypeFor(x.device)) : x;
        if (ChannelsLast.Applies(h, training, ChannelsLastInTraining)) h = ChannelsLast.Convert(h);
        foreach (var layer in layers) h = ReferenceEquals(h, x) ? layer.call(h) : h.Then(layer.call);
        h = h.Then(t => t.to(conv_sep.parameters().First().dtype)) // float32, unless the bf16 key cast the whole module
            .Then(conv_sep.call)
            .Then(features.call);
        return h.MoveToOuterDisposeScope();
    }
}
