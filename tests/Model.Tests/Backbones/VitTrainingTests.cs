using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Vit;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using Xunit.Abstractions;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>ViT training on CPU: the Partial FC trainer steps vit_t, and block checkpointing gives the plain gradients.</summary>
public class VitTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void VitTTrainsAFewStepsOnCpuWithFiniteLoss()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        const int classes = 6, dim = 64;
        var backbone = BackboneFactory.Create("vit_t", numFeatures: dim);
        var before = backbone.parameters().First().detach().clone();
        var comm = new SingleRankCollective();
        var shard = new PartialFCShard(new ShardLayout(classes, 1, 0), dim, new CombinedMarginLoss(64, 1.0, 0.5, 0.0),
            new PartialFCOptions(SampleRate: 1.0, Optimizer: OptimizerKind.Sgd, WeightDecay: 5e-4, InitSeed: 7));
        using var trainer = new RankTrainer(backbone, shard, comm, new RankTrainerOptions { Lr = 0.02, TotalSteps = 3 });
        var images = rand(4, 3, 112, 112) * 2 - 1;
        var labels = tensor(new long[] { 0, 1, 2, 3 });
        var losses = new List<float>();
        for (var i = 0; i < 3; i++)
        {
            var r = trainer.Step(images, labels);
            losses.Add(r.Loss);
            output.WriteLine($"vit_t step {i}: loss {r.Loss:F4}, grad norm {r.GradNorm:F4}");
            Assert.True(float.IsFinite(r.Loss) && r.Loss > 0, $"loss {r.Loss}");
            Assert.True(double.IsFinite(r.GradNorm));
        }
        Assert.True(losses[^1] < losses[0], $"loss did not go down on a fixed batch: {string.Join(" -> ", losses)}");
        Assert.False(before.allclose(backbone.parameters().First()), "the optimiser did not move pos_embed");
        shard.Dispose();
    }

    [Theory]
    [InlineData(false, true)]   // fp16 = half-precision blocks, float32 weights (autocast style)
    [InlineData(true, false)]   // trainer bf16: the whole module cast to bfloat16 with float32 master weights
    public void VitTrainsInReducedPrecision(bool trainerBf16, bool fp16)
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        const int dim = 32;
        var backbone = new VisionTransformer(new VitConfig(64, 2, DropPathRate: 0.1, MaskRatio: 0.1, UsingCheckpoint: true, NumHeads: 4), dim, fp16);
        var shard = new PartialFCShard(new ShardLayout(4, 1, 0), dim, new CombinedMarginLoss(64, 1.0, 0.5, 0.0),
            new PartialFCOptions(SampleRate: 1.0, Optimizer: OptimizerKind.Sgd, WeightDecay: 5e-4, InitSeed: 7));
        using var trainer = new RankTrainer(backbone, shard, new SingleRankCollective(),
            new RankTrainerOptions { Lr = 0.02, TotalSteps = 2, Bf16 = trainerBf16 });
        var images = rand(4, 3, 112, 112) * 2 - 1;
        for (var i = 0; i < 2; i++)
        {
            var r = trainer.Step(images, tensor(new long[] { 0, 1, 2, 3 }));
            output.WriteLine($"trainer bf16 {trainerBf16}, fp16 {fp16}: loss {r.Loss:F4}");
            Assert.True(float.IsFinite(r.Loss) && double.IsFinite(r.GradNorm));
        }
        shard.Dispose();
    }

    static (float[] Input, Dictionary<string, float[]> Params) Gradients(VisionTransformer model, Tensor x)
    {
        foreach (var p in model.parameters()) p.grad?.zero_();
        using var input = x.clone().requires_grad_(true);
        using var y = model.call(input);
        using var loss = (y * y).sum();
        loss.backward();
        return (input.grad!.data<float>().ToArray(),
            model.named_parameters().Where(p => p.parameter.grad is not null)
                .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray()));
    }

    [Fact]
    public void CheckpointedBlocksGiveTheSameGradientsAsPlainBackward()
    {
        manual_seed(3);
        using var model = new VisionTransformer(new VitConfig(32, 3, DropPathRate: 0, MaskRatio: 0, UsingCheckpoint: false, NumHeads: 4), numFeatures: 8);
        model.train();
        using var x = randn(3, 3, 112, 112);
        var plain = Gradients(model, x);
        model.UsingCheckpoint = true;
        var checkpointed = Gradients(model, x);
        Assert.Equal(plain.Params.Keys.OrderBy(k => k), checkpointed.Params.Keys.OrderBy(k => k));
        Assert.Contains("blocks.0.attn.qkv.weight", checkpointed.Params.Keys);
        var worst = plain.Params.Keys.Append("input").Max(k =>
        {
            var (a, b) = k == "input" ? (plain.Input, checkpointed.Input) : (plain.Params[k], checkpointed.Params[k]);
            var scale = a.Max(Math.Abs) + 1e-12;
            return a.Zip(b, (u, v) => Math.Abs(u - v)).Max() / scale;
        });
        output.WriteLine($"checkpointed vs plain gradients: max normalised difference {worst:E3}");
        Assert.True(worst < 1e-5, $"checkpointed gradients differ by {worst:E3}");
    }

    [Fact]
    public void CheckpointReplaysTheSameDropPathMasks()
    {
        // Drop path 0.6 on 8 samples: a replay that drew new masks would back-propagate through another network.
        manual_seed(5);
        using var block = new Block(32, 4, 4, dropPath: 0.6, half: false);
        block.train();
        using var x = randn(8, 144, 32);
        const long seed = 1234;
        using (no_grad())
        using (var a = block.CallSeeded(x, seed))
        using (var b = block.CallSeeded(x, seed + 1))
            Assert.False(a.allclose(b), "the masks should depend on the seed");

        float[] Grad(bool checkpointed)
        {
            foreach (var p in block.parameters()) p.grad?.zero_();
            using var input = x.clone().requires_grad_(true);
            using var y = checkpointed ? BlockCheckpoint.Run(block, input, seed) : block.CallSeeded(input, seed);
            using var loss = (y * y).sum();
            loss.backward();
            return [.. input.grad!.data<float>(), .. block.parameters().SelectMany(p => p.grad!.data<float>().ToArray())];
        }
        var plain = Grad(false);
        var replayed = Grad(true);
        var worst = plain.Zip(replayed, (u, v) => Math.Abs(u - v)).Max() / plain.Max(Math.Abs);
        output.WriteLine($"checkpointed block with drop path: max normalised gradient difference {worst:E3}");
        Assert.True(worst < 1e-5, $"replayed gradients differ by {worst:E3}");
    }
}
