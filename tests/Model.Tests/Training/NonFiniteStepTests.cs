using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training;

/// <summary>A step whose loss is NaN changes no weight and no class centre, but still counts as a step (batch
/// consumed, LR schedule advanced); the next finite step trains normally.</summary>
public class NonFiniteStepTests
{
    [Fact]
    public void ANaNLossStepIsSkippedWithoutTouchingTheWeights()
    {
        var g = new Generator(5);
        var images = torch.randn(new long[] { 4, 3, 8, 8 }, generator: g);
        var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        var backbone = TinyBackbone.Seeded(8, 5);
        using var shard = new PartialFCShard(new ShardLayout(6, 1, 0), 8, new CombinedMarginLoss(64, 1, 0.5, 0), new PartialFCOptions());
        using var trainer = new RankTrainer(backbone, shard, new SingleRankCollective(), new RankTrainerOptions { TotalSteps = 10 });
        trainer.Step(images, labels);
        var weights = trainer.TrainableParameters.Select(p => p.detach().clone()).ToList();
        var centres = shard.Weight.detach().clone();
        var lrBefore = trainer.Scheduler.LastLr;

        var poisoned = images.clone();
        poisoned[0, 0, 0, 0] = torch.tensor(float.NaN);
        var skipped = trainer.Step(poisoned, labels);

        Assert.True(float.IsNaN(skipped.Loss));
        Assert.False(skipped.OptimizerStepped);
        Assert.Equal(2, trainer.GlobalStep);
        Assert.NotEqual(lrBefore, trainer.Scheduler.LastLr);
        for (var i = 0; i < weights.Count; i++)
            Assert.True(weights[i].equal(trainer.TrainableParameters[i]).all().item<bool>(), $"parameter {i} changed on a skipped step");
        Assert.True(centres.equal(shard.Weight).all().item<bool>());

        var next = trainer.Step(images, labels);
        Assert.True(float.IsFinite(next.Loss));
        Assert.True(next.OptimizerStepped);
        Assert.False(centres.equal(shard.Weight).all().item<bool>());
    }

    [Fact]
    public void BackboneIsFiniteSeesANaNParameter()
    {
        var backbone = TinyBackbone.Seeded(8, 5);
        using var shard = new PartialFCShard(new ShardLayout(6, 1, 0), 8, new CombinedMarginLoss(64, 1, 0.5, 0), new PartialFCOptions());
        using var trainer = new RankTrainer(backbone, shard, new SingleRankCollective(), new RankTrainerOptions { TotalSteps = 10 });
        Assert.True(trainer.BackboneIsFinite());
        using (torch.no_grad())
            trainer.TrainableParameters[0].view(-1)[0] = torch.tensor(float.PositiveInfinity);
        Assert.False(trainer.BackboneIsFinite());
    }
}
