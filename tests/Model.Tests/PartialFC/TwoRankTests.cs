using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>Appendix D two-rank check: W = 2, B = 4, D = 8, C = 11 against a one-rank full softmax.</summary>
public class TwoRankTests
{
    const int B = 4, D = 8, C = 11;

    static (Tensor E, Tensor Labels, Tensor W) Problem()
    {
        var g = new Generator(7);
        var e = torch.randn(new long[] { 2 * B, D }, generator: g);
        var w = torch.randn(new long[] { C, D }, generator: g).mul_(0.1);
        // Rank 0's half carries 4 distinct positives of shard 0 (classes 0-5), so sample_rate 0.6 falls back.
        var labels = tensor(new long[] { 0, 2, 7, 10, 4, 5, 9, 6 });
        return (e, labels, w);
    }

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.0, 0.4)]
    public void TwoRanksMatchFullSoftmaxWithTwiceTheEmbeddingGradient(double m2, double m3)
    {
        using var scope = NewDisposeScope();
        var (e, labels, w) = Problem();
        var margin = new CombinedMarginLoss(64, 1.0, m2, m3);

        using var full = new PartialFCShard(new ShardLayout(C, 1, 0), D, margin, new PartialFCOptions(), initialWeight: w);
        using var reference = full.ForwardBackward(e, labels, new SingleRankCollective());

        var results = ThreadCollective.Run(2, comm =>
        {
            using var s = NewDisposeScope();
            var layout = new ShardLayout(C, 2, comm.Rank);
            using var shard = new PartialFCShard(layout, D, margin, new PartialFCOptions(), initialWeight: w.narrow(0, layout.ClassStart, layout.NumLocal));
            using var r = shard.ForwardBackward(e.narrow(0, comm.Rank * B, B), labels.narrow(0, comm.Rank * B, B), comm);
            return (r.Loss, Grad: r.EmbeddingGrad.clone().DetachFromDisposeScope(), WGrad: shard.CentreGradient()!.clone().DetachFromDisposeScope());
        });

        Assert.Equal(results[0].Loss, results[1].Loss);
        Assert.Equal(reference.Loss, results[0].Loss, 4);
        for (var r = 0; r < 2; r++)
        {
            TensorAssert.Close(reference.EmbeddingGrad.narrow(0, r * B, B) * 2, results[r].Grad, 1e-4, 1e-6, $"two-rank embedding grad rank {r} (×2)");
            var layout = new ShardLayout(C, 2, r);
            TensorAssert.Close(full.CentreGradient()!.narrow(0, layout.ClassStart, layout.NumLocal), results[r].WGrad, 1e-4, 1e-6, $"two-rank weight grad rank {r}");
            results[r].Grad.Dispose();
            results[r].WGrad.Dispose();
        }
    }

    [Fact]
    public void SampleRate06OnRankZeroFallsBackToThePositives()
    {
        using var scope = NewDisposeScope();
        var (e, labels, w) = Problem();
        var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        var indices = ThreadCollective.Run(2, comm =>
        {
            var layout = new ShardLayout(C, 2, comm.Rank);
            using var shard = new PartialFCShard(layout, D, margin, new PartialFCOptions(SampleRate: 0.6), initialWeight: w.narrow(0, layout.ClassStart, layout.NumLocal));
            using var r = shard.ForwardBackward(e.narrow(0, comm.Rank * B, B), labels.narrow(0, comm.Rank * B, B), comm);
            return (shard.NumSample, Index: shard.LastIndex!.data<long>().ToArray(), r.NumColumns);
        });
        Assert.Equal(3, indices[0].NumSample);
        Assert.Equal(new long[] { 0, 2, 4, 5 }, indices[0].Index); // 4 distinct positives > num_sample 3
        Assert.Equal(4, indices[0].NumColumns);
        Assert.Equal(3, indices[1].NumSample); // rank 1: positives {6,7,9,10} local {0,1,3,4} > 3 as well
        Assert.Equal(new long[] { 0, 1, 3, 4 }, indices[1].Index);
    }
}
