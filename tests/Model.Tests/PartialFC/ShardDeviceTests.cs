using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>
/// The code path a shard on a CUDA device takes (PartialFCOptions.Device set, dense update because the deferred one
/// needs host memory), run on the CPU device: everything it owns is on its device, and its checkpoint holds CPU tensors
/// that resume to the same state.
/// </summary>
public class ShardDeviceTests : IDisposable
{
    const int D = 6, C = 23;
    readonly TempDirectory dir = new("actorface-pfc-dev-");
    public void Dispose() => dir.Dispose();

    static readonly CombinedMarginLoss Margin = new(64, 1.0, 0.5, 0.0);
    static readonly PartialFCOptions OnDevice = new(SampleRate: 0.4, InitSeed: 5, DeferredUpdate: false, Device: CPU);

    static void Run(PartialFCShard shard, IEnumerable<(Tensor E, Tensor Y)> batches)
    {
        foreach (var (e, y) in batches)
        {
            using (shard.ForwardBackward(e, y, new SingleRankCollective())) { }
            shard.Step(0.1);
            shard.ZeroGrad();
        }
    }

    static List<(Tensor E, Tensor Y)> Batches(int n)
    {
        var g = new Generator(3);
        return Enumerable.Range(0, n).Select(_ => (torch.randn(new long[] { 4, D }, generator: g), torch.randint(0, C, new long[] { 4 }, generator: g))).ToList();
    }

    [Fact]
    public void EverythingTheShardOwnsIsOnItsDeviceAndTheCheckpointOnTheCpu()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(4);
        var layout = new ShardLayout(C, 1, 0);
        using var shard = new PartialFCShard(layout, D, Margin, OnDevice);
        Run(shard, batches.Take(2));
        Assert.Equal(DeviceType.CPU, shard.Weight.device_type);
        Assert.All(shard.Optimizer.GetState(0).Values, t => Assert.Equal(shard.Weight.device.ToString(), t.device.ToString()));
        Assert.All(shard.PendingGradients(), t => Assert.Equal(shard.Weight.device.ToString(), t.device.ToString()));
        Assert.Equal(shard.Weight.device.ToString(), shard.LastIndex!.device.ToString());

        var path = Path.Combine(dir, "device.shard");
        shard.Save(path);
        using (var state = PartialFCShard.ReadState(path))
        {
            Assert.Equal(DeviceType.CPU, state.Weight.device_type);
            Assert.All(state.OptimizerState.Values, t => Assert.Equal(DeviceType.CPU, t.device_type));
            Assert.NotNull(state.SamplerState);
        }

        using var resumed = PartialFCShard.Reshard(new[] { path }, layout, D, Margin, OnDevice);
        Assert.True(shard.Weight.allclose(resumed.Weight, 0, 0));
        Assert.True(shard.Optimizer.GetState(0)["momentum_buffer"].allclose(resumed.Optimizer.GetState(0)["momentum_buffer"], 0, 0));
        Run(shard, batches.Skip(2));
        Run(resumed, batches.Skip(2));
        Assert.True(shard.Weight.allclose(resumed.Weight, 0, 0), "the resumed shard did not continue like the original");
    }

    [Fact]
    public void ADeviceShardTakesTheDenseUpdateAndMatchesTheDeferredOne()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(4);
        var layout = new ShardLayout(C, 1, 0);
        using var dense = new PartialFCShard(layout, D, Margin, OnDevice);
        using var deferred = new PartialFCShard(layout, D, Margin, OnDevice with { DeferredUpdate = true, Device = null });
        Run(dense, batches);
        Run(deferred, batches);
        deferred.Synchronize();
        Assert.True(dense.Weight.allclose(deferred.Weight, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void ASamplerStateOfAnotherKindOfDeviceContinuesFromTheSeed()
    {
        using var scope = NewDisposeScope();
        using var random = new TorchSampleRandom(7);
        using var fresh = new TorchSampleRandom(7);
        // A CUDA generator's state is 16 bytes (Philox seed and offset); a CPU one cannot take it.
        random.SetState(torch.zeros(16, ScalarType.Byte));
        Assert.True(random.Uniform(5).allclose(fresh.Uniform(5), 0, 0));
    }
}
