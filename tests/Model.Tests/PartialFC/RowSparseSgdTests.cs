using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>
/// The shard's row-sparse SGD (and its sparse grad zeroing) must give bit-identical weights and momentum to the
/// dense torch.optim.SGD update applied to the dense gradient.
/// </summary>
public class RowSparseSgdTests
{
    static readonly CombinedMarginLoss Margin = new(64, 1.0, 0.5, 0.0);

    [Theory]
    [InlineData(0.1, 1, 512, 4000)]   // sampled: zero rows skipped
    [InlineData(0.1, 2, 512, 4000)]   // two accumulated forward/backwards per step
    [InlineData(1.0, 1, 512, 3000)]   // model parallel: every row, blocked
    [InlineData(0.01, 1, 7, 700_000)] // odd row width, several blocks
    public void MatchesDenseSgdBitForBit(double sampleRate, int accumulate, int d, long classes)
    {
        using var scope = NewDisposeScope();
        using var comm = new SingleRankCollective();
        var layout = new ShardLayout(classes, 1, 0);
        using var shard = new PartialFCShard(layout, d, Margin, new PartialFCOptions(SampleRate: sampleRate, InitSeed: 3, DeferredUpdate: false));
        var reference = shard.Weight.detach().clone().requires_grad_(true);
        using var dense = new SgdOptimizer(new[] { reference }, 0.9, 5e-4);
        var gen = new Generator(17);
        for (var step = 0; step < 4; step++)
        {
            for (var a = 0; a < accumulate; a++)
            {
                var e = torch.randn(new long[] { 16, d }, generator: gen);
                var y = torch.randint(0, classes, new long[] { 16 }, generator: gen);
                shard.ForwardBackward(e, y, comm).Dispose();
            }
            reference.grad = shard.Weight.grad!.clone();
            dense.Step(0.1);
            shard.Step(0.1);
            Assert.True(SameBits(reference.detach(), shard.Weight.detach()), $"weights differ after step {step}");
            Assert.True(SameBits(dense.GetState(0)["momentum_buffer"], shard.Optimizer.GetState(0)["momentum_buffer"]), $"momentum differs after step {step}");
            shard.ZeroGrad();
            Assert.Equal(0f, shard.Weight.grad!.abs().max().item<float>());
        }
    }

    static bool SameBits(Tensor a, Tensor b)
    {
        var (x, y) = (a.contiguous().data<float>().ToArray(), b.contiguous().data<float>().ToArray());
        return x.Length == y.Length && x.Zip(y).All(p => BitConverter.SingleToInt32Bits(p.First) == BitConverter.SingleToInt32Bits(p.Second));
    }
}
