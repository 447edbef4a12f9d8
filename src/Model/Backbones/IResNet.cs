using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Backbones;

/// <summary>
/// arcface_torch's IResNet (spec §1.2) for 112×112 RGB input in [-1, 1]; returns the un-normalised float32
/// embedding [n, numFeatures]. Field names and order reproduce the PyTorch state_dict keys exactly.
/// </summary>
public sealed class IResNet : Module<Tensor, Tensor>
{
    const long FcScale = 7 * 7;

    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly PReLU prelu;
    readonly Sequential layer1;
    readonly Sequential layer2;
    readonly Sequential layer3;
    readonly Sequential layer4;
    readonly BatchNorm2d bn2;
    readonly Dropout dropout;
    readonly Linear fc;
    readonly BatchNorm1d features;

    public bool Fp16 { get; }
    public long NumFeatures { get; }

    /// <param name="blocks">blocks per stage, e.g. [2, 2, 2, 2] for r18</param>
    /// <param name="fp16">mixed precision: conv trunk in half precision, fc + features always float32</param>
    public IResNet(IReadOnlyList<int> blocks, long numFeatures = 512, double dropout = 0, bool fp16 = false)
        : base(nameof(IResNet))
    {
        if (blocks.Count != 4 || blocks.Any(b => b < 1))
            throw new ArgumentException($"IResNet needs 4 positive stage sizes, got [{string.Join(", ", blocks)}]", nameof(blocks));
        if (numFeatures < 1) throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, "must be positive");
        if (dropout < 0 || dropout >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "must be in [0, 1)");
        Fp16 = fp16;
        NumFeatures = numFeatures;

        conv1 = Conv2d(3, 64, 3, stride: 1, padding: 1, bias: false);
        bn1 = BatchNorm2d(64, eps: 1e-5, momentum: 0.1);
        prelu = PReLU(64, init: 0.25);
        layer1 = Stage(64, 64, blocks[0]);
        layer2 = Stage(64, 128, blocks[1]);
        layer3 = Stage(128, 256, blocks[2]);
        layer4 = Stage(256, 512, blocks[3]);
        bn2 = BatchNorm2d(512, eps: 1e-5, momentum: 0.1);
        this.dropout = Dropout(dropout);
        fc = Linear(512 * FcScale, numFeatures, hasBias: true);
        features = BatchNorm1d(numFeatures, eps: 1e-5, momentum: 0.1);
        RegisterComponents();
        Initialise();
    }

    // Every stage starts with a stride-2 block that owns a downsample branch, even layer1 (64 → 64).
    static Sequential Stage(long inplanes, long planes, int count)
    {
        var seq = Sequential();
        seq.append(new IBasicBlock(inplanes, planes, stride: 2, withDownsample: true));
        for (var i = 1; i < count; i++) seq.append(new IBasicBlock(planes, planes, stride: 1, withDownsample: false));
        return seq;
    }

    void Initialise()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                // std 0.1 (not Kaiming) is what iresnet.py does; activations grow large with depth at init.
                case Conv2d conv: init.normal_(conv.weight, 0, 0.1); break;
                case BatchNorm2d bn: init.ones_(bn.weight); init.zeros_(bn.bias); break;
            }
        }
        // fc keeps the default Linear init; the embedding BN has gamma frozen at 1 but stays in the state_dict.
        init.ones_(features.weight);
        features.weight!.requires_grad = false;
    }

    /// <summary>Whether training runs the trunk channels-last on CPU (inference always does): <see cref="ChannelsLast"/>.</summary>
    public bool ChannelsLastInTraining { get; set; } = ChannelsLast.ForTraining;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Fp16 ? x.to(MixedPrecision.HalfTypeFor(x.device)) : x;
        if (ChannelsLast.Applies(h, training, ChannelsLastInTraining)) h = ChannelsLast.Convert(h);
        h = MixedPrecision.Conv(conv1, h)
            .Then(t => MixedPrecision.Norm(bn1, t))
            .Then(t => MixedPrecision.PRelu(prelu, t))
            .Then(layer1.call)
            .Then(layer2.call)
            .Then(layer3.call)
            .Then(layer4.call)
            .Then(t => MixedPrecision.Norm(bn2, t))
            .Then(t => t.flatten(1))
            .Then(dropout.call)
            .Then(t => t.to(fc.weight!.dtype)) // float32, unless the bf16 key cast the whole module
            .Then(fc.call)
            .Then(features.call);
        return h.MoveToOuterDisposeScope();
    }
}
