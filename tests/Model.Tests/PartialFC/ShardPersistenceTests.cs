using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

public class ShardPersistenceTests : IDisposable
{
    const int D = 6, C = 23;
    readonly TempDirectory dir = new("actorface-pfc-");
    public void Dispose() => dir.Dispose();

    static readonly CombinedMarginLoss Margin = new(64, 1.0, 0.0, 0.4);

    /// <summary>Trains every shard of a W-rank world for two steps so that weights and optimiser state are non-trivial.</summary>
    string[] TrainAndSave(int world, OptimizerKind kind)
    {
        return ThreadCollective.Run(world, comm =>
        {
            using var scope = NewDisposeScope();
            var layout = new ShardLayout(C, world, comm.Rank);
            using var shard = new PartialFCShard(layout, D, Margin, new PartialFCOptions(Optimizer: kind, InitSeed: 5));
            var g = new Generator(11);
            for (var step = 0; step < 2; step++)
            {
                var e = torch.randn(new long[] { 3 * world, D }, generator: g).narrow(0, comm.Rank * 3, 3);
                var y = torch.randint(0, C, new long[] { 3 * world }, generator: g).narrow(0, comm.Rank * 3, 3);
                using var r = shard.ForwardBackward(e, y, comm);
                shard.Step(0.1);
                shard.ZeroGrad();
            }
            var path = Path.Combine(dir, $"{kind}_w{world}_r{comm.Rank}.shard");
            shard.Save(path);
            return path;
        });
    }

    [Fact]
    public void InitialisationDoesNotDependOnWorldSize()
    {
        using var scope = NewDisposeScope();
        var one = PartialFCShard.InitialWeight(new ShardLayout(10_000, 1, 0), 4, 9);
        var parts = ShardLayout.All(10_000, 3).Select(l => PartialFCShard.InitialWeight(l, 4, 9)).ToList();
        Assert.True(one.eq(torch.cat(parts, 0)).all().item<bool>());
        Assert.InRange(one.std().item<float>(), 0.0095f, 0.0105f);
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.AdamW)]
    public void ReshardThreeRanksToTwoEqualsSlicesOfTheConcatenation(OptimizerKind kind)
    {
        using var scope = NewDisposeScope();
        var paths = TrainAndSave(3, kind);
        var olds = paths.Select(PartialFCShard.ReadState).ToList();
        var fullWeight = torch.cat(olds.Select(o => o.Weight).ToList(), 0);
        var stateKeys = olds[0].OptimizerState.Where(kv => kv.Value.dim() > 0).Select(kv => kv.Key).ToList();
        Assert.NotEmpty(stateKeys);
        var fullState = stateKeys.ToDictionary(k => k, k => torch.cat(olds.Select(o => o.OptimizerState[k]).ToList(), 0));

        var options = new PartialFCOptions(Optimizer: kind);
        for (var r = 0; r < 2; r++)
        {
            var layout = new ShardLayout(C, 2, r);
            using var shard = PartialFCShard.Reshard(paths, layout, D, Margin, options);
            Assert.True(shard.Weight.eq(fullWeight.narrow(0, layout.ClassStart, layout.NumLocal)).all().item<bool>());
            var state = shard.Optimizer.GetState(0);
            foreach (var k in stateKeys)
                Assert.True(state[k].eq(fullState[k].narrow(0, layout.ClassStart, layout.NumLocal)).all().item<bool>(), k);
            if (kind == OptimizerKind.AdamW) Assert.Equal(2.0, state["step"].item<double>());
        }
        foreach (var o in olds) o.Dispose();
    }

    [Fact]
    public void ReshardedShardsContinueLikeTheOriginalWorld()
    {
        // A step after resharding 3 -> 1 gives the same centres as the same step on the concatenated 1-rank shard.
        using var scope = NewDisposeScope();
        var paths = TrainAndSave(3, OptimizerKind.Sgd);
        using var one = PartialFCShard.Reshard(paths, new ShardLayout(C, 1, 0), D, Margin, new PartialFCOptions());
        var before = one.Weight.clone();
        var e = torch.randn(new long[] { 4, D }, generator: new Generator(1));
        using (one.ForwardBackward(e, tensor(new long[] { 1, 5, 9, 22 }), new SingleRankCollective())) { }
        var grad = one.CentreGradient()!.clone();
        var momentum = PartialFCShard.ReadState(paths[0]).OptimizerState["momentum_buffer"];
        one.Step(0.1);
        // Row 0 follows SGD with the restored momentum: buf = 0.9·m + g + wd·p.
        var expected = before[0] - 0.1 * (momentum[0] * 0.9 + grad[0] + before[0] * 5e-4);
        Assert.True(expected.allclose(one.Weight[0], 1e-5, 1e-7));
    }

    [Fact]
    public void AResumedShardDrawsTheNegativesAnUninterruptedOneWould()
    {
        using var scope = NewDisposeScope();
        var options = new PartialFCOptions(SampleRate: 0.3, InitSeed: 5);
        var layout = new ShardLayout(C, 1, 0);
        var path = Path.Combine(dir, "sampled.shard");
        var g = new Generator(3);
        var batches = Enumerable.Range(0, 4).Select(_ => (torch.randn(new long[] { 2, D }, generator: g), tensor(new long[] { 1, 7 }))).ToList();
        Tensor[] Run(PartialFCShard shard, IEnumerable<(Tensor E, Tensor Y)> steps) => steps.Select(b =>
        {
            using (shard.ForwardBackward(b.E, b.Y, new SingleRankCollective())) { }
            shard.Step(0.1);
            shard.ZeroGrad();
            return shard.LastIndex!.clone();
        }).ToArray();

        using var uninterrupted = new PartialFCShard(layout, D, Margin, options);
        Run(uninterrupted, batches.Take(2));
        uninterrupted.Save(path);
        var expected = Run(uninterrupted, batches.Skip(2));

        using var resumed = PartialFCShard.Reshard(new[] { path }, layout, D, Margin, options);
        var actual = Run(resumed, batches.Skip(2));
        for (var i = 0; i < expected.Length; i++)
            Assert.True(expected[i].eq(actual[i]).all().item<bool>(), $"step {i + 3}: sampled classes differ");
        uninterrupted.Synchronize();
        resumed.Synchronize();
        Assert.True(uninterrupted.Weight.eq(resumed.Weight).all().item<bool>());
        using var fresh = new PartialFCShard(layout, D, Margin, options); // without the saved state: another draw
        Assert.False(Run(fresh, batches.Skip(2)).Zip(expected).All(p => p.First.eq(p.Second).all().item<bool>()));
    }

    [Fact]
    public void SaveLoadRoundTripsAndRejectsAnotherLayout()
    {
        using var scope = NewDisposeScope();
        var paths = TrainAndSave(2, OptimizerKind.Sgd);
        var saved = PartialFCShard.ReadState(paths[1]);
        using var shard = new PartialFCShard(new ShardLayout(C, 2, 1), D, Margin, new PartialFCOptions(InitSeed: 99));
        shard.Load(paths[1]);
        Assert.True(shard.Weight.eq(saved.Weight).all().item<bool>());
        Assert.True(shard.Optimizer.GetState(0)["momentum_buffer"].eq(saved.OptimizerState["momentum_buffer"]).all().item<bool>());

        using var other = new PartialFCShard(new ShardLayout(C, 2, 0), D, Margin, new PartialFCOptions());
        var ex = Assert.Throws<InvalidDataException>(() => other.Load(paths[1]));
        Assert.Contains("Reshard", ex.Message);
        using var adam = new PartialFCShard(new ShardLayout(C, 2, 1), D, Margin, new PartialFCOptions(Optimizer: OptimizerKind.AdamW));
        Assert.Throws<InvalidDataException>(() => adam.Load(paths[1]));
        Assert.Throws<InvalidDataException>(() => PartialFCShard.Reshard(new[] { paths[1], paths[0] }, new ShardLayout(C, 1, 0), D, Margin, new PartialFCOptions()));
        saved.Dispose();
    }
}
