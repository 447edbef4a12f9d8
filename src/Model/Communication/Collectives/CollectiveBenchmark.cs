using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// Times repeated float32 AllReduce calls on one rank (every rank of the world must run it with the same
/// arguments). Reports algorithm bandwidth (tensor bytes / time) and bus bandwidth (algbw · 2(W−1)/W, the bytes
/// each rank actually moves in a ring, as nccl-tests reports it).
/// </summary>
public static class CollectiveBenchmark
{
    public sealed record Result(int WorldSize, long Bytes, int Iterations, TimeSpan Elapsed)
    {
        public double AlgorithmGBps => Bytes * (double)Iterations / Elapsed.TotalSeconds / 1e9;
        public double BusGBps => AlgorithmGBps * 2.0 * (WorldSize - 1) / WorldSize;
        public override string ToString() =>
            $"world {WorldSize}: all-reduce {Bytes / 1048576.0:0.#} MiB x {Iterations} in {Elapsed.TotalSeconds:0.000} s " +
            $"-> {Elapsed.TotalMilliseconds / Iterations:0.00} ms/op, algbw {AlgorithmGBps:0.00} GB/s, busbw {BusGBps:0.00} GB/s";
    }

    public static Result AllReduce(ICollective collective, long bytes, int iterations, int warmup = 2)
    {
        if (bytes < 4) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "at least one float32");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "at least 1");
        using var tensor = torch.ones(bytes / 4, ScalarType.Float32);
        for (int i = 0; i < warmup; i++) collective.AllReduce(tensor);
        collective.Barrier();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) collective.AllReduce(tensor);
        collective.Barrier();
        watch.Stop();
        return new Result(collective.WorldSize, tensor.numel() * 4, iterations, watch.Elapsed);
    }
}
