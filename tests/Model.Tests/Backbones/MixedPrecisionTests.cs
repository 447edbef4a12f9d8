using ActorFace.Model.Backbones;
using ActorFace.Tests;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>fp16 = arcface_torch's autocast region: half-precision trunk, float32 head and output, float32 grads.</summary>
public class MixedPrecisionTests(ITestOutputHelper output)
{
    [Fact]
    public void HalfTypeIsBFloat16OnCpuAndFloat16OnCuda()
    {
        Assert.Equal(ScalarType.BFloat16, MixedPrecision.HalfTypeFor(CPU));
        Assert.Equal(ScalarType.Float16, MixedPrecision.HalfTypeFor(new Device(DeviceType.CUDA, 0)));
    }

    [ReferenceFact(GoldenR18.WeightsFile)]
    public void R18Fp16TrunkTracksFp32()
    {
        using var full = BackboneFactory.Create("r18");
        using var mixed = BackboneFactory.Create("r18", fp16: true);
        StateDictFile.Load(full, GoldenR18.WeightsPath);
        StateDictFile.Load(mixed, GoldenR18.WeightsPath);
        full.eval();
        mixed.eval();
        using var _ = no_grad();
        using var x = GoldenR18.Input(1);
        using var a = full.call(x);
        using var b = mixed.call(x);
        Assert.Equal(ScalarType.Float32, b.dtype);
        using var cos = nn.functional.cosine_similarity(a, b, 1);
        var worst = cos.min().item<float>();
        output.WriteLine($"r18 bf16 trunk vs fp32 (golden weights): cosine {worst:F6}");
        Assert.True(worst > 0.99f, $"bf16 trunk drifted: cosine {worst}");
        foreach (var (_, p) in mixed.named_parameters()) Assert.Equal(ScalarType.Float32, p.dtype);
    }

    [Fact]
    public void MobileFaceNetFp16TrunkTracksFp32()
    {
        using var full = BackboneFactory.Create("mbf");
        using var mixed = BackboneFactory.Create("mbf", fp16: true);
        mixed.load_state_dict(full.state_dict());
        full.eval();
        mixed.eval();
        using var _ = no_grad();
        using var x = randn(1, 3, 112, 112);
        using var a = full.call(x);
        using var b = mixed.call(x);
        Assert.Equal(ScalarType.Float32, b.dtype);
        using var cos = nn.functional.cosine_similarity(a, b, 1);
        output.WriteLine($"mbf bf16 trunk vs fp32: cosine {cos.min().item<float>():F6}");
        Assert.True(cos.min().item<float>() > 0.99f);
    }

    // Whole-model bf16 backward on CPU is slow (grouped convs fall back to per-group kernels), so the
    // training path is checked block by block at small sizes: half activations, float32 master gradients.
    public static TheoryData<string> Blocks => new() { "IBasicBlock", "DepthWise", "ConvBlock" };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void HalfActivationsBackpropagateIntoFloat32Weights(string kind)
    {
        nn.Module<Tensor, Tensor> block = kind switch
        {
            "IBasicBlock" => new IBasicBlock(16, 32, stride: 2, withDownsample: true),
            "DepthWise" => new DepthWise(8, 8, residual: true, kernel: 3, stride: 1, padding: 1, groups: 16),
            _ => new ConvBlock(8, 16, kernel: 3, stride: 2, padding: 1, groups: 8),
        };
        using var _block = block;
        using var x = randn(4, kind == "IBasicBlock" ? 16 : 8, 8, 8);
        block.eval();
        using (no_grad())
        {
            using var full = block.call(x);
            using var half = block.call(x.to(ScalarType.BFloat16));
            Assert.Equal(ScalarType.BFloat16, half.dtype);
            using var cos = nn.functional.cosine_similarity(full.flatten(), half.to(ScalarType.Float32).flatten(), 0);
            Assert.True(cos.item<float>() > 0.999f, $"{kind}: bf16 vs fp32 cosine {cos.item<float>()}");
        }

        block.train();
        using var y = block.call(x.to(ScalarType.BFloat16));
        using var loss = y.to(ScalarType.Float32).square().mean();
        loss.backward();
        foreach (var (name, p) in block.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.True(p.grad is not null, $"{kind}.{name} has no gradient");
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            Assert.True(p.grad.abs().sum().item<float>() > 0, $"{kind}.{name} gradient is zero");
        }
        foreach (var (name, b) in block.named_buffers())
            if (name.EndsWith("num_batches_tracked")) Assert.Equal(1L, b.item<long>());
            else Assert.Equal(ScalarType.Float32, b.dtype);
    }
}
