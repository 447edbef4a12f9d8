using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>Sizes from spec §1.3 and key patterns from Appendix C / §1.4 for every factory name.</summary>
public class BackboneFactoryTests
{
    [Theory]
    [InlineData("r18", 24_025_600, 24_025_088, 187)]
    [InlineData("r34", 34_139_328, 34_138_816, 331)]
    [InlineData("r50", 43_590_848, 43_590_336, 475)]
    [InlineData("r100", 65_156_160, 65_155_648, 925)]
    [InlineData("r200", 118_833_920, 118_833_408, 1807)]
    [InlineData("mbf", 2_059_520, 2_059_520, 333)]
    [InlineData("mbf_large", 6_314_880, 6_314_880, 606)]
    public void ParameterCountsAndStateDictSizesMatchSpec(string network, long parameters, long trainable, int entries)
    {
        using var model = BackboneFactory.Create(network);
        var ps = model.parameters().ToList();
        Assert.Equal(parameters, ps.Sum(p => p.numel()));
        Assert.Equal(trainable, ps.Where(p => p.requires_grad).Sum(p => p.numel()));
        var sd = StateDictEntries.Of(model);
        Assert.Equal(entries, sd.Count);
        if (network.StartsWith('r'))
            Assert.Equal(ExpectedIResNetKeys(network), sd.Select(e => (e.Key, Shape(e.Tensor))));
    }

    static string Shape(Tensor t) => string.Join("x", t.shape);

    /// <summary>Appendix C: the state_dict key/shape list of an IResNet of any depth, in PyTorch order.</summary>
    static List<(string, string)> ExpectedIResNetKeys(string network)
    {
        int[] blocks = network switch
        {
            "r18" => [2, 2, 2, 2], "r34" => [3, 4, 6, 3], "r50" => [3, 4, 14, 3],
            "r100" => [3, 13, 30, 3], "r200" => [6, 26, 60, 6], _ => throw new ArgumentException(network),
        };
        var keys = new List<(string, string)>();
        void Bn(string p, long c)
        {
            foreach (var n in new[] { "weight", "bias", "running_mean", "running_var" }) keys.Add(($"{p}.{n}", $"{c}"));
            keys.Add(($"{p}.num_batches_tracked", ""));
        }
        keys.Add(("conv1.weight", "64x3x3x3"));
        Bn("bn1", 64);
        keys.Add(("prelu.weight", "64"));
        long[] planes = [64, 128, 256, 512];
        for (var s = 0; s < 4; s++)
        {
            var prev = s == 0 ? 64 : planes[s - 1];
            var ps = planes[s];
            for (var i = 0; i < blocks[s]; i++)
            {
                var b = $"layer{s + 1}.{i}";
                var inp = i == 0 ? prev : ps;
                Bn($"{b}.bn1", inp);
                keys.Add(($"{b}.conv1.weight", $"{ps}x{inp}x3x3"));
                Bn($"{b}.bn2", ps);
                keys.Add(($"{b}.prelu.weight", $"{ps}"));
                keys.Add(($"{b}.conv2.weight", $"{ps}x{ps}x3x3"));
                Bn($"{b}.bn3", ps);
                if (i == 0)
                {
                    keys.Add(($"{b}.downsample.0.weight", $"{ps}x{prev}x1x1"));
                    Bn($"{b}.downsample.1", ps);
                }
            }
        }
        Bn("bn2", 512);
        keys.Add(("fc.weight", "512x25088"));
        keys.Add(("fc.bias", "512"));
        Bn("features", 512);
        return keys;
    }

    [Fact]
    public void MobileFaceNetKeysMatchTheOriginalLayout()
    {
        using var model = BackboneFactory.Create("mbf");
        var sd = StateDictEntries.Of(model).ToDictionary(e => e.Key, e => Shape(e.Tensor));
        Assert.Equal("128x3x3x3", sd["layers.0.layers.0.weight"]);
        Assert.Equal("128x2x3x3", sd["layers.1.layers.0.weight"]); // groups = 64 even though scale = 2
        Assert.Equal("128x1x3x3", sd["layers.2.layers.1.layers.0.weight"]);
        Assert.Equal("128x128x1x1", sd["layers.3.layers.0.layers.0.layers.0.weight"]);
        Assert.Equal("512x256x1x1", sd["conv_sep.layers.0.weight"]);
        Assert.Equal("512x1x7x7", sd["features.layers.0.layers.0.weight"]);
        Assert.Equal("512x512", sd["features.layers.2.weight"]);
        Assert.Equal("", sd["features.layers.3.num_batches_tracked"]);
        Assert.DoesNotContain("features.layers.2.bias", sd.Keys);
        using var large = BackboneFactory.Create("mbf_large");
        var sdl = StateDictEntries.Of(large).ToDictionary(e => e.Key, e => Shape(e.Tensor));
        Assert.Equal("128x256x1x1", sdl["layers.1.layers.1.layers.0.layers.0.weight"]); // blocks[0] = 2 ⇒ Residual, groups 128
        Assert.Equal("512x512x1x1", sdl["conv_sep.layers.0.weight"]);
    }

    [Theory]
    [InlineData("mbf", 2, 512)]
    [InlineData("mbf_large", 1, 512)]
    [InlineData("r18", 1, 128)]
    [InlineData("mbf", 1, 256)]
    public void ForwardGivesFloat32Embeddings(string network, int batch, int features)
    {
        using var model = BackboneFactory.Create(network, numFeatures: features);
        model.eval();
        using var _ = no_grad();
        using var x = randn(batch, 3, 112, 112);
        using var y = model.call(x);
        Assert.Equal([batch, features], y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Fact]
    public void UnknownNetworkIsRejectedByName()
    {
        var ex = Assert.Throws<ArgumentException>(() => BackboneFactory.Create("iresnet50"));
        Assert.Contains("iresnet50", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BackboneFactory.Create("r18", dropout: 1.5));
    }

    [Fact]
    public void DropoutIsActiveOnlyInTraining()
    {
        using var model = BackboneFactory.Create("r18", numFeatures: 64, dropout: 0.5);
        // Batch 4: with 2 samples the training-mode BatchNorm1d head maps every feature to about ±1 whatever the input.
        using var x = GoldenR18.Input(4);
        using var _ = no_grad();
        model.eval();
        using var a = model.call(x);
        using var b = model.call(x);
        Assert.True(a.eq(b).all().item<bool>());
        model.train();
        manual_seed(1);
        using var c = model.call(x);
        manual_seed(2);
        using var d = model.call(x);
        Assert.False(c.eq(d).all().item<bool>());
    }
}
