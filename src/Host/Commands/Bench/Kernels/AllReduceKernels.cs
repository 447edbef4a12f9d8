using BenchmarkDotNet.Attributes;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench.Kernels;

/// <summary>
/// Ring all-reduce (sum) of one float32 tensor over two ranks of the in-process local collective (threads). The tcp
/// ring between processes is measured by `bench allreduce`, whose children cannot live inside one benchmark.
/// </summary>
[MemoryDiagnoser]
public class AllReduceKernels
{
    [Params(1, 16)] public int MiB;

    ICollective[] ranks = null!;
    Tensor[] tensors = null!;

    [GlobalSetup]
    public void Setup()
    {
        ranks = LocalCollectiveGroup.Create(2);
        tensors = ranks.Select(_ => torch.ones(MiB << 18)).ToArray();
    }

    [Benchmark]
    public void LocalRingAllReduce()
    {
        var other = Task.Factory.StartNew(() => ranks[1].AllReduce(tensors[1]), TaskCreationOptions.LongRunning);
        ranks[0].AllReduce(tensors[0]);
        other.Wait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in tensors) t.Dispose();
        foreach (var r in ranks) r.Dispose();
    }
}
