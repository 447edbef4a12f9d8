using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// The uniform [0, 1) draws of Partial FC's negative sampling (torch.rand(num_local) in the reference). Injectable so
/// that a test can replay recorded values.
/// </summary>
public interface ISampleRandom
{
    /// <summary>float32 [n] uniform values in [0, 1) on the CPU.</summary>
    Tensor Uniform(long n);

    /// <summary>The generator's position (saved with the shard's checkpoint); null when it has none to save.</summary>
    Tensor? GetState() => null;

    /// <summary>Continues from a position <see cref="GetState"/> returned.</summary>
    void SetState(Tensor state) => throw new NotSupportedException($"{GetType().Name} has no state to restore");
}

/// <summary>A seeded libtorch CPU generator (the reference seeds it with cfg.seed on every rank).</summary>
public sealed class TorchSampleRandom : ISampleRandom, IDisposable
{
    readonly Generator generator;

    public TorchSampleRandom(long seed) => generator = new Generator((ulong)seed);

    public Tensor Uniform(long n) => torch.rand(new[] { n }, ScalarType.Float32, generator: generator);

    public Tensor GetState() => generator.get_state();

    public void SetState(Tensor state) => generator.set_state(state);

    public void Dispose() => generator.Dispose();
}

/// <summary>Replays fixed value vectors in order (tests; reproducing a recorded run).</summary>
public sealed class ReplaySampleRandom : ISampleRandom
{
    readonly Queue<float[]> draws;

    public ReplaySampleRandom(params float[][] draws) => this.draws = new Queue<float[]>(draws);

    public Tensor Uniform(long n)
    {
        if (!draws.TryDequeue(out var next)) throw new InvalidOperationException("ReplaySampleRandom: no recorded draw left");
        if (next.Length != n) throw new InvalidOperationException($"ReplaySampleRandom: recorded draw has {next.Length} values, {n} requested");
        return torch.tensor(next);
    }
}
