using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench.Kernels;

/// <summary>
/// Partial FC on a small shard (single rank): class sampling alone, and one whole step (forward/backward + SGD +
/// zero-grad) at sample rate 0.1 and 1.0.
/// </summary>
[MemoryDiagnoser]
public class PartialFCKernels
{
    const long Classes = 50_000;
    const int Batch = 128, D = 512;

    [Params(0.1, 1.0)] public double SampleRate;

    PartialFCShard shard = null!;
    CombinedMarginLoss margin = null!;
    SingleRankCollective collective = null!;
    TorchSampleRandom random = null!;
    Tensor embeddings = null!, labels = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(9);
        margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        collective = new SingleRankCollective();
        shard = new PartialFCShard(new ShardLayout(Classes, 1, 0), D, margin, new PartialFCOptions(SampleRate: SampleRate));
        random = new TorchSampleRandom(3);
        embeddings = torch.randn(new long[] { Batch, D }, generator: g);
        labels = torch.randint(0, Classes, new long[] { Batch }, generator: g);
    }

    [Benchmark]
    public long ClassSampling()
    {
        using var scope = NewDisposeScope();
        var local = labels.clone();
        return ClassSampler.Sample(local, Classes, (long)(SampleRate * Classes), random).shape[0];
    }

    [Benchmark]
    public float Step()
    {
        using var scope = NewDisposeScope();
        using var result = shard.ForwardBackward(embeddings, labels, collective);
        shard.Step(0.1);
        shard.ZeroGrad();
        return result.Loss;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        shard.Dispose();
        margin.Dispose();
        collective.Dispose();
        random.Dispose();
        embeddings.Dispose();
        labels.Dispose();
    }
}
