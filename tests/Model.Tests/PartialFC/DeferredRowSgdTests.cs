using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>
/// The deferred update (unsampled centres take their weight decay and momentum when next sampled or saved) must follow
/// the dense torch.optim.SGD update of every row within float rounding, through changing learning rates, gradient
/// accumulation and a save/load in the middle.
/// </summary>
public class DeferredRowSgdTests
{
    static readonly CombinedMarginLoss Margin = new(64, 1.0, 0.5, 0.0);

    [Theory]
    [InlineData(0.1, 1, 64, 2000)]
    [InlineData(0.05, 2, 16, 5000)] // two accumulated forward/backwards per step; most rows sit out many steps
    public void FollowsTheDenseUpdateOfEveryRow(double sampleRate, int accumulate, int d, long classes)
    {
        // The reference applies torch.optim.SGD to the whole shard with the deferred shard's own gradients, so only
        // the update's arithmetic is compared (not the amplification of rounding through later forward passes).
        using var scope = NewDisposeScope();
        using var comm = new SingleRankCollective();
        var layout = new ShardLayout(classes, 1, 0);
        using var shard = new PartialFCShard(layout, d, Margin, new PartialFCOptions(SampleRate: sampleRate, InitSeed: 3));
        var reference = shard.Weight.detach().clone().requires_grad_(true);
        using var dense = new SgdOptimizer(new[] { reference }, 0.9, 5e-4);
        var gen = new Generator(17);
        var path = Path.Combine(Path.GetTempPath(), $"deferred-{Guid.NewGuid():N}.shard");
        for (var step = 0; step < 12; step++)
        {
            for (var a = 0; a < accumulate; a++)
            {
                var e = torch.randn(new long[] { 16, d }, generator: gen);
                var y = torch.randint(0, classes, new long[] { 16 }, generator: gen);
                shard.ForwardBackward(e, y, comm).Dispose();
            }
            reference.grad = shard.CentreGradient()!;
            var lr = 0.1 * (1 - step / 12.0);
            dense.Step(lr);
            shard.Step(lr);
            shard.ZeroGrad();
            if (step == 5)
            {
                shard.Save(path); // flushes: the state on disk is the dense state
                TensorAssert.Close(reference.detach(), PartialFCShard.ReadState(path).Weight, 1e-5, 1e-7, "saved centres");
                shard.Load(path);
            }
        }
        File.Delete(path);
        shard.Synchronize();
        TensorAssert.Close(reference.detach(), shard.Weight.detach(), 1e-5, 1e-7, "centres after 12 steps");
        TensorAssert.Close(dense.GetState(0)["momentum_buffer"], shard.Optimizer.GetState(0)["momentum_buffer"], 1e-5, 1e-7, "momentum after 12 steps");
    }

    [Fact]
    public void KeepsNoDenseGradient()
    {
        using var scope = NewDisposeScope();
        using var shard = new PartialFCShard(new ShardLayout(1000, 1, 0), 8, Margin, new PartialFCOptions(SampleRate: 0.1));
        using (shard.ForwardBackward(torch.randn(4, 8), torch.tensor(new long[] { 1, 2, 3, 4 }), new SingleRankCollective())) { }
        Assert.Null(shard.Weight.grad);
        var grad = shard.CentreGradient()!;
        Assert.Equal(new long[] { 1000, 8 }, grad.shape);
        Assert.Equal(shard.NumSample, grad.abs().sum(1).gt(0).sum().item<long>());
        shard.Step(0.1);
        shard.ZeroGrad();
        Assert.Null(shard.CentreGradient());
    }
}
