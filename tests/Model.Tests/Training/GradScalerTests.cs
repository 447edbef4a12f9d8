using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training;

public class GradScalerTests
{
    const int D = 8, C = 10;
    static readonly CombinedMarginLoss Arc = new(64, 1.0, 0.5, 0.0);

    static (Tensor Images, Tensor Labels) Data(int n, long seed)
    {
        var g = new Generator((ulong)seed);
        var labels = torch.randint(0, C, new long[] { n }, generator: g);
        var images = torch.randn(new long[] { n, 3, 8, 8 }, generator: g);
        return (images, labels);
    }

    static RankTrainer Trainer(RankTrainerOptions o, double sampleRate = 1.0, ICollective? comm = null)
    {
        comm ??= new SingleRankCollective();
        var shard = new PartialFCShard(new ShardLayout(C, comm.WorldSize, comm.Rank), D, Arc,
            new PartialFCOptions(SampleRate: sampleRate, Optimizer: o.Optimizer, WeightDecay: o.WeightDecay, InitSeed: 77));
        return new RankTrainer(TinyBackbone.Seeded(D, 5), shard, comm, o);
    }

    static List<Tensor> Snapshot(RankTrainer t)
    {
        t.PartialFC.Synchronize();
        return t.TrainableParameters.Select(p => p.detach().clone()).Append(t.PartialFC.Weight.detach().clone()).ToList();
    }

    [Fact]
    public void ScalerFollowsTorchGradScaler()
    {
        var s = new GradScaler(new GradScalerOptions { GrowthInterval = 3 });
        Assert.Equal(65536, s.Scale);
        s.Update(foundInf: false);
        s.Update(foundInf: false);
        Assert.Equal(65536, s.Scale);
        s.Update(foundInf: true); // back-off resets the growth count
        Assert.Equal(32768, s.Scale);
        Assert.Equal(0, s.GrowthTracker);
        for (var i = 0; i < 3; i++) s.Update(foundInf: false);
        Assert.Equal(65536, s.Scale);
        Assert.Equal(0, s.GrowthTracker);
        Assert.Equal(1, s.SkippedSteps);
    }

    [Fact]
    public void ScaleNeverGrowsPastFloat32()
    {
        var s = new GradScaler(new GradScalerOptions { InitScale = Math.Pow(2, 127), GrowthInterval = 1 });
        s.Update(false);
        Assert.Equal(Math.Pow(2, 127), s.Scale);
    }

    [Fact]
    public void UnscaleDividesAndFindsInfAndNaN()
    {
        using var scope = NewDisposeScope();
        var s = new GradScaler(new GradScalerOptions { InitScale = 4 });
        var a = torch.tensor(new float[] { 4, 8 });
        Assert.False(s.UnscaleAndCheck(new[] { a }, null));
        Assert.Equal(new float[] { 1, 2 }, a.data<float>().ToArray());
        Assert.True(s.UnscaleAndCheck(new[] { torch.tensor(new float[] { 1 }), torch.tensor(new[] { float.PositiveInfinity }) }, null));
        Assert.True(s.UnscaleAndCheck(new[] { torch.tensor(new[] { float.NaN }) }, null));
    }

    [Fact]
    public void AnInfOnOneRankSkipsTheStepOnEveryRank()
    {
        var comms = LocalCollectiveGroup.Create(2);
        var found = new bool[2];
        Parallel.For(0, 2, r =>
        {
            using var scope = NewDisposeScope();
            var g = r == 1 ? torch.tensor(new[] { float.PositiveInfinity }) : torch.tensor(new float[] { 1 });
            found[r] = new GradScaler().UnscaleAndCheck(new[] { g }, comms[r]);
        });
        Assert.Equal(new[] { true, true }, found);
        foreach (var c in comms) c.Dispose();
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)] // sampled centres with the deferred row update
    public void AnOverflowingStepIsSkippedAndHalvesTheScale(double sampleRate)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(8, 1);
        // 2^127 × (softmax gradient × s = 64) overflows float32: a real inf through the whole backward path.
        var o = new RankTrainerOptions { TotalSteps = 1000, LossScaling = new GradScalerOptions { InitScale = Math.Pow(2, 127) } };
        using var trainer = Trainer(o, sampleRate);
        var before = Snapshot(trainer);
        var r = trainer.Step(images, labels);
        Assert.True(r.SkippedByScaler);
        Assert.Equal(Math.Pow(2, 126), r.LossScale);
        Assert.Equal(Math.Pow(2, 126), trainer.Scaler!.Scale);
        Assert.True(float.IsFinite(r.Loss), "the loss itself is unscaled and finite");
        var after = Snapshot(trainer);
        for (var i = 0; i < before.Count; i++) Assert.True(before[i].allclose(after[i], 0, 0), $"tensor {i} changed in a skipped step");
        Assert.Equal(1, trainer.Scheduler.LastEpoch); // the LR schedule advances anyway, as in train_v2.py

        // Back-off continues until the gradients fit (below 65504 in the float16 all-reduce); then the weights move.
        var steps = 1;
        while (trainer.Step(images, labels).SkippedByScaler) Assert.True(++steps < 128, "the scale never came down");
        Assert.InRange(trainer.Scaler.Scale, 1, 65536);
        var moved = Snapshot(trainer);
        Assert.False(before[0].allclose(moved[0], 0, 0));
        Assert.False(before[^1].allclose(moved[^1], 0, 0));
        trainer.PartialFC.Dispose();
    }

    [Fact]
    public void APowerOfTwoScaleWithoutOverflowGivesTheUnscaledResult()
    {
        using var scope = NewDisposeScope();
        var batches = Enumerable.Range(0, 3).Select(i => Data(8, 10 + i)).ToList();
        var plain = new RankTrainerOptions { TotalSteps = 10, Compression = GradientCompression.None };
        using var a = Trainer(plain);
        using var b = Trainer(plain with { LossScaling = new GradScalerOptions() });
        foreach (var (x, y) in batches)
        {
            var ra = a.Step(x, y);
            var rb = b.Step(x, y);
            Assert.False(rb.SkippedByScaler);
            Assert.Equal(ra.Loss, rb.Loss);
            Assert.Equal(ra.GradNorm, rb.GradNorm, 5);
            Assert.True(double.IsNaN(ra.LossScale));
        }
        foreach (var (p, q) in Snapshot(a).Zip(Snapshot(b))) Assert.True(p.allclose(q, rtol: 1e-5, atol: 1e-7));
        a.PartialFC.Dispose();
        b.PartialFC.Dispose();
    }

    [Fact]
    public void ScaleGrowsAfterTheGrowthIntervalOfFiniteSteps()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(8, 2);
        var o = new RankTrainerOptions { TotalSteps = 10, LossScaling = new GradScalerOptions { InitScale = 1024, GrowthInterval = 3 } };
        using var trainer = Trainer(o);
        var scales = Enumerable.Range(0, 4).Select(_ => trainer.Step(images, labels).LossScale).ToList();
        Assert.Equal(new[] { 1024.0, 1024, 2048, 2048 }, scales);
        trainer.PartialFC.Dispose();
    }

    [Fact]
    public void ScalerStateSurvivesACheckpoint()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Data(8, 3);
        var o = new RankTrainerOptions { TotalSteps = 1000, LossScaling = new GradScalerOptions { InitScale = Math.Pow(2, 127), GrowthInterval = 500 } };
        var path = Path.Combine(Path.GetTempPath(), $"scaler-{Guid.NewGuid():N}.afta");
        try
        {
            using var trainer = Trainer(o);
            trainer.Step(images, labels); // overflow: 2^126
            while (trainer.Step(images, labels).SkippedByScaler) { }
            var state = trainer.Scaler!.GetState();
            Assert.True(state.GrowthTracker > 0);
            trainer.Save(path);

            using var resumed = Trainer(o);
            Assert.Equal(Math.Pow(2, 127), resumed.Scaler!.Scale);
            resumed.Load(path);
            Assert.Equal(state, resumed.Scaler.GetState());
            trainer.PartialFC.Dispose();
            resumed.PartialFC.Dispose();
        }
        finally { File.Delete(path); }
    }
}
