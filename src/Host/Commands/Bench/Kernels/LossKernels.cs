using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench.Kernels;

/// <summary>
/// Margin and distributed softmax on one [N, K] logits block (N = 128 gathered samples, K sampled centres), single
/// rank. Each invocation first restores the block from a saved copy (the kernels work in place); CopyOnly measures
/// that copy so it can be subtracted.
/// </summary>
[MemoryDiagnoser]
public class LossKernels
{
    [Params(10_000, 100_000)] public int K;

    Tensor source = null!, buffer = null!, labels = null!;
    CombinedMarginLoss margin = null!;
    SingleRankCollective collective = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(5);
        source = torch.rand(new long[] { 128, K }, generator: g).mul_(2).sub_(1);
        buffer = source.clone();
        labels = torch.randint(-1, K, new long[] { 128 }, generator: g); // -1: label on another rank
        margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        collective = new SingleRankCollective();
    }

    [Benchmark(Baseline = true)]
    public void CopyOnly() => buffer.copy_(source);

    [Benchmark]
    public void ArcFaceMargin()
    {
        buffer.copy_(source);
        using var scope = NewDisposeScope();
        margin.ApplyInPlace(buffer, labels);
    }

    [Benchmark]
    public float MarginAndDistributedSoftmax()
    {
        buffer.copy_(source);
        using var scope = NewDisposeScope();
        margin.ApplyInPlace(buffer, labels);
        return DistributedSoftmaxCrossEntropy.ForwardBackwardInPlace(buffer, labels, collective);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { source, buffer, labels }) t.Dispose();
        margin.Dispose();
        collective.Dispose();
    }
}
