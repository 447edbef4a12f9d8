using TorchSharp;
using Xunit.Abstractions;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>
/// NCCL needs CUDA and libnccl.so.2. Without them the GPU test returns early after writing the reason to the test
/// output (xunit 2 has no runtime skip); the availability probe itself always runs.
/// </summary>
public class NcclCollectiveTests(ITestOutputHelper output)
{
    [Fact]
    public void AvailabilityProbeExplainsItself()
    {
        bool available = NcclCollective.IsAvailable(out var reason);
        output.WriteLine(available ? "NCCL available" : $"NCCL unavailable: {reason}");
        Assert.True(available || reason.Length > 0, "an unavailable backend must say why");
        if (!available)
            Assert.Throws<PlatformNotSupportedException>(() => NcclCollective.Create(0, 1, new byte[128]));
    }

    [Fact]
    public void SingleRankWorldRunsEveryOperationOnTheGpu()
    {
        if (!NcclCollective.IsAvailable(out var reason))
        {
            output.WriteLine($"not run here: {reason}");
            return;
        }
        using var c = NcclCollective.Create(0, 1, NcclCollective.CreateUniqueId(), TimeSpan.FromSeconds(30));
        foreach (var type in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16, ScalarType.Int64 })
        {
            var x = (torch.arange(12, ScalarType.Int64).reshape(4, 3) % 7).to(type).cuda();
            var gathered = c.AllGather(x);
            Assert.True(gathered.cpu().eq(x.cpu()).all().item<bool>(), $"AllGather {type}");
            var y = x.clone();
            c.AllReduce(y, ReduceOp.Sum);
            c.AllReduce(y, ReduceOp.Max);
            Assert.True(y.cpu().eq(x.cpu()).all().item<bool>(), $"AllReduce {type}");
            var scattered = c.ReduceScatter(x);
            Assert.True(scattered.cpu().eq(x.cpu()).all().item<bool>(), $"ReduceScatter {type}");
            c.Broadcast(y, 0);
            c.Barrier();
        }
        c.Abort("test");
        Assert.Throws<CollectiveAbortedException>(() => c.Barrier());
    }
}
