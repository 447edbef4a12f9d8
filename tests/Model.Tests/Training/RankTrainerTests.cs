using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Tests.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training;

public class RankTrainerTests
{
    const int D = 8, C = 10;
    static readonly CombinedMarginLoss Arc = new(64, 1.0, 0.5, 0.0);

    static (Tensor Images, Tensor Labels) Data(int n, long seed)
    {
        var g = new Generator((ulong)seed);
        var labels = torch.randint(0, C, new long[] { n }, generator: g);
        // Class-dependent mean so that the problem is learnable.
        var means = torch.randn(new long[] { C, 3, 8, 8 }, generator: new Generator(1234));
        var images = means.index_select(0, labels) + torch.randn(new long[] { n, 3, 8, 8 }, generator: g).mul_(0.3);
        return (images, labels);
    }

    static RankTrainer Trainer(nn.Module<Tensor, Tensor> backbone, ICollective comm, RankTrainerOptions o, double sampleRate = 1.0)
    {
        var layout = new ShardLayout(C, comm.WorldSize, comm.Rank);
        var shard = new PartialFCShard(layout, D, Arc, new PartialFCOptions(SampleRate: sampleRate, Optimizer: o.Optimizer, WeightDecay: o.WeightDecay, InitSeed: 77));
        return new RankTrainer(backbone, shard, comm, o);
    }

    [Theory]
    [InlineData(false, OptimizerKind.Sgd)]
    [InlineData(true, OptimizerKind.Sgd)]
    [InlineData(false, OptimizerKind.AdamW)]
    public void LossDecreasesOnATinyProblem(bool bf16, OptimizerKind kind)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(16, 3);
        var o = new RankTrainerOptions { Lr = kind == OptimizerKind.Sgd ? 0.1 : 0.01, TotalSteps = 40, Bf16 = bf16, Optimizer = kind, WeightDecay = kind == OptimizerKind.Sgd ? 5e-4 : 0.1 };
        var backbone = TinyBackbone.Seeded(D, 5);
        using var trainer = Trainer(backbone, new SingleRankCollective(), o);
        if (bf16)
        {
            Assert.All(backbone.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
            Assert.All(trainer.TrainableParameters, p => Assert.Equal(ScalarType.Float32, p.dtype));
        }
        var losses = new List<float>();
        for (var i = 0; i < 12; i++)
        {
            var r = trainer.Step(images, labels);
            Assert.True(r.OptimizerStepped);
            Assert.True(double.IsFinite(r.GradNorm));
            losses.Add(r.Loss);
        }
        Console.WriteLine($"[trainer] bf16={bf16} {kind}: loss {losses[0]:F3} -> {losses[^1]:F3}");
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        trainer.PartialFC.Dispose();
    }

    [Theory]
    [InlineData("thread")]
    [InlineData("local")]
    public void TwoRanksWithHalfBatchesEqualOneRankWithTheWholeBatch(string backend)
    {
        using var scope = NewDisposeScope();
        const int B = 6, Steps = 3;
        var batches = Enumerable.Range(0, Steps).Select(s => Data(2 * B, 100 + s)).ToList();
        var o = new RankTrainerOptions { Lr = 0.1, TotalSteps = 10, WarmupSteps = 2, Compression = GradientCompression.None };
        var reference = TinyBackbone.Seeded(D, 5);

        var single = new TinyBackbone(D);
        single.CopyFrom(reference);
        using var one = Trainer(single, new SingleRankCollective(), o);
        var oneLosses = batches.Select(b => one.Step(b.Images, b.Labels).Loss).ToList();

        ICollective[] comms = backend == "local" ? LocalCollectiveGroup.Create(2) : ThreadCollective.Create(2);
        var two = ThreadCollective.Run(comms, comm =>
        {
            using var s = NewDisposeScope();
            // Rank 1 starts from different weights: the trainer must broadcast rank 0's.
            var backbone = comm.Rank == 0 ? TinyBackbone.Seeded(D, 5) : TinyBackbone.Seeded(D, 6);
            using var t = Trainer(backbone, comm, o);
            var losses = batches.Select(b => t.Step(b.Images.narrow(0, comm.Rank * B, B), b.Labels.narrow(0, comm.Rank * B, B)).Loss).ToList();
            var parameters = backbone.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToList();
            t.PartialFC.Synchronize();
            var shard = t.PartialFC.Weight.detach().clone().DetachFromDisposeScope();
            t.PartialFC.Dispose();
            return (losses, parameters, shard);
        });

        for (var i = 0; i < Steps; i++)
        {
            Assert.Equal(two[0].losses[i], two[1].losses[i]);
            Assert.Equal(oneLosses[i], two[0].losses[i], 1e-5 * Math.Max(1, oneLosses[i]));
        }
        foreach (var rank in two)
            foreach (var (a, b) in single.parameters().Zip(rank.parameters))
                TensorAssert.Close(a.detach(), b, 1e-5, 1e-6, "backbone after 3 steps: 1 rank (2B) vs 2 ranks (B)");
        one.PartialFC.Synchronize();
        TensorAssert.Close(one.PartialFC.Weight.detach(), torch.cat(new[] { two[0].shard, two[1].shard }, 0), 1e-5, 1e-6, "Partial FC centres: 1 rank vs 2 ranks");
        one.PartialFC.Dispose();
    }

    [Fact]
    public void LearningRateFollowsTheScheduleIncludingTheFirstIterationQuirk()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(4, 9);
        using var trainer = Trainer(TinyBackbone.Seeded(D, 5), new SingleRankCollective(), new RankTrainerOptions { Lr = 0.1, WarmupSteps = 3, TotalSteps = 10 });
        var lrs = Enumerable.Range(0, 5).Select(_ => trainer.Step(images, labels)).ToList();
        Assert.Equal(new[] { 0.1, 0.033333, 0.066667, 0.1, 0.085714 }, lrs.Select(r => Math.Round(r.Lr, 6)));
        Assert.Equal(lrs[1].Lr, lrs[0].NextLr);
        Assert.Equal(5, trainer.GlobalStep);
        trainer.PartialFC.Dispose();
    }

    [Fact]
    public void GradientAccumulationStepsEveryNthIterationButSchedulesEveryIteration()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(4, 9);
        var backbone = TinyBackbone.Seeded(D, 5);
        using var trainer = Trainer(backbone, new SingleRankCollective(), new RankTrainerOptions { Lr = 0.1, TotalSteps = 10, GradientAcc = 2 });
        var before = backbone.parameters().Select(p => p.detach().clone()).ToList();
        var shardBefore = trainer.PartialFC.Weight.detach().clone();
        var first = trainer.Step(images, labels);
        Assert.False(first.OptimizerStepped);
        Assert.True(double.IsNaN(first.GradNorm));
        Assert.True(backbone.parameters().Zip(before).All(x => x.First.eq(x.Second).all().item<bool>()));
        Assert.True(trainer.PartialFC.Weight.eq(shardBefore).all().item<bool>());
        var second = trainer.Step(images, labels);
        Assert.True(second.OptimizerStepped);
        Assert.Equal(0.09, second.Lr, 12);
        Assert.False(backbone.parameters().Zip(before).All(x => x.First.eq(x.Second).all().item<bool>()));
        trainer.PartialFC.Dispose();
    }

    [Fact]
    public void LoadingAnotherWorldsStateRestartsThisTrainersScheduleAtTheEquivalentStep()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("actorface-trainer-").FullName;
        try
        {
            var path = Path.Combine(dir, "trainer.state");
            var (images, labels) = Data(6, 300);
            // Saved by a world with a 20-step schedule after 6 steps; resumed by one with a 10-step schedule after 3.
            using (var old = Trainer(TinyBackbone.Seeded(D, 5), new SingleRankCollective(), new RankTrainerOptions { Lr = 0.1, TotalSteps = 20, WarmupSteps = 4 }))
            {
                for (var i = 0; i < 6; i++) old.Step(images, labels);
                old.Save(path);
                old.PartialFC.Dispose();
            }
            var o = new RankTrainerOptions { Lr = 0.1, TotalSteps = 10, WarmupSteps = 2 };
            using var resumed = Trainer(TinyBackbone.Seeded(D, 5), new SingleRankCollective(), o);
            resumed.Load(path, stepsDone: 3);
            var expected = new PolynomialLRWarmup(0.1, 2, 10);
            for (var i = 0; i < 3; i++) expected.Step();
            Assert.Equal(3, resumed.GlobalStep);
            Assert.Equal(expected.GetState(), resumed.Scheduler.GetState());
            // The same file at its own step keeps its own schedule, which this trainer's does not match.
            using var same = Trainer(TinyBackbone.Seeded(D, 5), new SingleRankCollective(), o);
            Assert.Throws<InvalidOperationException>(() => same.Load(path));
            same.PartialFC.Dispose();
            resumed.PartialFC.Dispose();
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SaveAndLoadResumeTheSameTrajectory()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("actorface-trainer-").FullName;
        try
        {
            var batches = Enumerable.Range(0, 5).Select(s => Data(6, 200 + s)).ToList();
            var o = new RankTrainerOptions { Lr = 0.1, TotalSteps = 8, WarmupSteps = 1 };
            var a = TinyBackbone.Seeded(D, 5);
            using var ta = Trainer(a, new SingleRankCollective(), o);
            for (var i = 0; i < 3; i++) ta.Step(batches[i].Images, batches[i].Labels);
            ta.Save(Path.Combine(dir, "trainer.state"), new Dictionary<string, string> { ["epoch"] = "1" });
            ta.PartialFC.Save(Path.Combine(dir, "shard.state"));

            var b = new TinyBackbone(D);
            b.CopyFrom(a);
            using var tb = Trainer(b, new SingleRankCollective(), o);
            var extra = tb.Load(Path.Combine(dir, "trainer.state"));
            tb.PartialFC.Load(Path.Combine(dir, "shard.state"));
            Assert.Equal("1", extra["epoch"]);
            Assert.Equal(3, tb.GlobalStep);
            for (var i = 3; i < 5; i++)
            {
                var ra = ta.Step(batches[i].Images, batches[i].Labels);
                var rb = tb.Step(batches[i].Images, batches[i].Labels);
                Assert.Equal(ra.Loss, rb.Loss);
                Assert.Equal(ra.Lr, rb.Lr);
            }
            Assert.True(a.parameters().Zip(b.parameters()).All(x => x.First.eq(x.Second).all().item<bool>()));
            ta.PartialFC.Dispose();
            tb.PartialFC.Dispose();
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Float16CompressionRoundsLikeTheReferenceHook()
    {
        using var scope = NewDisposeScope();
        var p = torch.zeros(3).requires_grad_(true);
        p.grad = torch.tensor(new float[] { 1e-9f, 0.1234567f, 70000f });
        GradientSync.AllReduceAverage(new[] { p }, new SingleRankCollective(), GradientCompression.Float16, 1 << 20);
        var g = p.grad!.data<float>().ToArray();
        Assert.Equal(0f, g[0]);
        Assert.Equal(0.12347412f, g[1]);
        Assert.True(float.IsPositiveInfinity(g[2]));
    }

    [Fact]
    public void ClippingScalesTheTotalNormToTheMaximum()
    {
        using var scope = NewDisposeScope();
        var a = torch.zeros(2).requires_grad_(true);
        var b = torch.zeros(1).requires_grad_(true);
        a.grad = torch.tensor(new float[] { 6f, 0f });
        b.grad = torch.tensor(new float[] { 8f });
        var norm = GradientSync.ClipGradNorm(new[] { a, b }, 5.0);
        Assert.Equal(10.0, norm, 5);
        Assert.Equal(3f, a.grad![0].item<float>(), 4);
        Assert.Equal(4f, b.grad![0].item<float>(), 4);
        Assert.Equal(1.5, GradientSync.ClipGradNorm(new[] { Grad(1.5f) }, 5.0), 5); // below the maximum: unchanged
    }

    static Tensor Grad(float v)
    {
        var t = torch.zeros(1).requires_grad_(true);
        t.grad = torch.tensor(new[] { v });
        return t;
    }
}

public class RankTrainerMemoryTests
{
    [Fact]
    public void LiveTensorCountStaysFlatAcrossSteps()
    {
        // Every step runs in its own dispose scope: after the optimiser state exists (step 1), nothing accumulates.
        var g = new Generator(5);
        var images = torch.randn(new long[] { 4, 3, 8, 8 }, generator: g);
        var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        var backbone = TinyBackbone.Seeded(8, 5);
        var shard = new PartialFCShard(new ShardLayout(6, 1, 0), 8, new CombinedMarginLoss(64, 1, 0.5, 0), new PartialFCOptions(SampleRate: 0.5));
        using var trainer = new RankTrainer(backbone, shard, new SingleRankCollective(), new RankTrainerOptions { TotalSteps = 10 });
        trainer.Step(images, labels);
        trainer.Step(images, labels);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 4; i++) trainer.Step(images, labels);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        shard.Dispose();
    }
}
