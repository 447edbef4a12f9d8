using System.Text.Json;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Vit;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Evaluation;
using ActorFace.Tests;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Images;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>Our vit_t against arcface_torch's VisionTransformer (golden eval outputs for the same seed-0 weights).</summary>
public class VitTGoldenTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-4;

    // Read on first use: the tests below that need no reference data must still run without it.
    static readonly Lazy<JsonElement> golden =
        new(() => JsonDocument.Parse(File.ReadAllText(SharedPaths.Golden("vit_t_forward.json"))).RootElement.Clone());
    static JsonElement Golden => golden.Value;

    static nn.Module<Tensor, Tensor> LoadedVitT()
    {
        var model = BackboneFactory.Create("vit_t");
        StateDictFile.Load(model, SharedPaths.Golden("vit_t_seed0.pth"));
        model.eval();
        return model;
    }

    [ReferenceFact("golden/vit_t_forward.json", "golden/vit_t_seed0.pth")]
    public void StateDictKeysAndShapesMatchPyTorch()
    {
        using var model = BackboneFactory.Create("vit_t");
        var ours = StateDictEntries.Of(model);
        var golden = Golden.GetProperty("state_dict").EnumerateArray().ToList();
        Assert.Equal(golden.Count, ours.Count);
        for (var i = 0; i < golden.Count; i++)
        {
            Assert.Equal(golden[i].GetProperty("key").GetString(), ours[i].Key);
            Assert.Equal(golden[i].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), ours[i].Tensor.shape);
        }
    }

    [Fact]
    public void InitialisationFollowsTheReference()
    {
        manual_seed(0);
        using var model = BackboneFactory.Create("vit_t");
        var sd = StateDictEntries.Of(model).ToDictionary(e => e.Key, e => e.Tensor);
        Assert.DoesNotContain(sd, kv => kv.Value.is_floating_point() && kv.Value.isnan().any().item<bool>());
        // trunc-normal std 0.02 (Linear weights, pos_embed), normal std 0.02 (mask_token), zero Linear biases, LN 1/0.
        foreach (var key in new[] { "pos_embed", "blocks.0.attn.qkv.weight", "blocks.11.mlp.fc2.weight", "feature.0.weight", "feature.2.weight" })
            Assert.InRange(sd[key].std().item<float>(), 0.0195f, 0.0205f);
        Assert.InRange(sd["mask_token"].std().item<float>(), 0.015f, 0.025f);
        Assert.True(sd["blocks.3.mlp.fc1.bias"].eq(0f).all().item<bool>());
        Assert.True(sd["blocks.3.norm1.weight"].eq(1f).all().item<bool>() && sd["norm.bias"].eq(0f).all().item<bool>());
        model.eval();
        using var y = model.call(GoldenR18.Input(2));
        Assert.True(y.isfinite().all().item<bool>());
    }

    [ReferenceFact("golden/vit_t_forward.json", "golden/vit_t_seed0.pth")]
    public void EvalForwardOnTheFixedInputMatchesPyTorch()
    {
        using var model = LoadedVitT();
        using var x = GoldenR18.Input(2);
        using var _ = no_grad();
        using var y = model.call(x);
        Assert.Equal([2L, 512L], y.shape);
        var golden = GoldenR18.Matrix(Golden.GetProperty("output_eval_rows"));
        var worst = 0.0;
        for (var b = 0; b < 2; b++)
        {
            var row = Enumerable.Range(0, 512).Select(j => golden[b, j]).ToArray();
            worst = Math.Max(worst, GoldenR18.NormalisedError(y[b].data<float>().ToArray(), row));
        }
        var stats = Golden.GetProperty("output_eval");
        Assert.Equal(stats.GetProperty("abs_sum").GetDouble(), y.abs().sum().item<float>(), 0.01);
        output.WriteLine($"vit_t eval forward: max |ours - torch| / max |torch| = {worst:E3}");
        Assert.True(worst < Tolerance, $"eval output error {worst:E3} exceeds {Tolerance}");
    }

    [ReferenceFact("golden/vit_t_forward.json", "golden/vit_t_seed0.pth", "data/celeba-subset-112")]
    public void EvalForwardOnARealFaceMatchesPyTorch()
    {
        using var model = LoadedVitT();
        using var embedder = new TorchFaceEmbedder(model);
        var worst = 0.0;
        foreach (var face in Golden.GetProperty("celeba_faces_eval").EnumerateObject())
        {
            var image = ImageCodec.DecodeFile(SharedPaths.Data(Path.Combine("celeba-subset-112", face.Name)));
            var ours = embedder.Embed([image])[0];
            var e = GoldenR18.NormalisedError(ours, GoldenR18.Floats(face.Value));
            output.WriteLine($"vit_t on {face.Name}: max |ours - torch| / max |torch| = {e:E3}");
            worst = Math.Max(worst, e);
        }
        Assert.True(worst < Tolerance, $"real-face output error {worst:E3} exceeds {Tolerance}");
    }

    [Fact]
    public void TrainingMasksTokensAndDropsPathsButEvalIsDeterministic()
    {
        manual_seed(0);
        using var model = BackboneFactory.Create("vit_t");
        model.eval();
        using var x = GoldenR18.Input(2);
        using var _ = no_grad();
        using var eval1 = model.call(x);
        using var eval2 = model.call(x);
        Assert.True(eval1.allclose(eval2, 0, 0));
        model.train();
        manual_seed(1);
        using var train1 = model.call(x);
        manual_seed(2);
        using var train2 = model.call(x);
        Assert.False(train1.allclose(train2), "training forward should depend on the masking/drop-path draw");
        // The masking keeps ⌊144·0.9⌋ = 129 tokens and restores all 144 positions in order.
        using var masking = NewDisposeScope();
        var m = TokenMasking.Draw(2, 144, 0.1, CPU);
        Assert.Equal(129, m.KeptTokens);
        var tokens = arange(144, dtype: ScalarType.Float32).reshape(1, 144, 1).expand(2, 144, 4);
        var restored = m.Restore(m.Keep(tokens), full(new long[] { 1, 1, 4 }, -1f));
        Assert.Equal(15L * 2 * 4, restored.eq(-1f).sum().item<long>());
        var kept = restored.ne(-1f);
        Assert.True(restored.masked_select(kept).allclose(tokens.masked_select(kept), 0, 0));
    }

    [Theory]
    [InlineData("vit_t", 256, 12, 0.1, 0.1, false)]
    [InlineData("vit_t_dp005_mask0", 256, 12, 0.05, 0.0, false)]
    [InlineData("vit_s", 512, 12, 0.1, 0.1, false)]
    [InlineData("vit_s_dp005_mask_0", 512, 12, 0.05, 0.0, false)]
    [InlineData("vit_b", 512, 24, 0.1, 0.1, true)]
    [InlineData("vit_b_dp005_mask_005", 512, 24, 0.05, 0.05, true)]
    [InlineData("vit_l_dp005_mask_005", 768, 24, 0.05, 0.05, true)]
    [InlineData("vit_h", 1024, 48, 0.1, 0.0, true)]
    public void FactoryTableMatchesTheReference(string name, long dim, int depth, double dropPath, double mask, bool checkpoint)
    {
        var c = VitConfig.For(name)!;
        Assert.Equal((dim, depth, dropPath, mask, checkpoint, 8, 144L), (c.EmbedDim, c.Depth, c.DropPathRate, c.MaskRatio, c.UsingCheckpoint, c.NumHeads, c.NumPatches));
        Assert.Contains(name, BackboneFactory.Networks);
    }

    [Theory]
    [InlineData("vit_t", 1.5)]
    [InlineData("vit_s", 5.7)]
    [InlineData("vit_b", 11.4)]
    [InlineData("vit_l_dp005_mask_005", 25.3)]
    public void MacCountMatchesTheReferenceReadme(string name, double gigaMacs) =>
        Assert.Equal(gigaMacs, VitConfig.For(name)!.GigaMacs(), 0.06 * gigaMacs);

    [Theory]
    [InlineData("vit_t", 19_137_792, 150)]
    [InlineData("vit_s_dp005_mask_0", 76_023_296, 150)]
    [InlineData("vit_b", 113_833_472, 282)]
    public void ParameterCountsAndStateDictSizes(string name, long parameters, int entries)
    {
        // 4 top-level entries, 11 per block, final norm 2, head 12 (two Linear weights, two BatchNorm1d with 5 each).
        using var model = BackboneFactory.Create(name);
        Assert.Equal(parameters, model.parameters().Sum(p => p.numel()));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.Equal(entries, StateDictEntries.Of(model).Count);
    }
}
