using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// The uniform [0, 1) draws of Partial FC's negative sampling (torch.rand(num_local) in the reference). Injectable so
/// that a test can replay recorded values.
/// </summary>
public interface ISampleRandom
{
    /// <summary>float32 [n] uniform values in [0, 1) (on the generator's device; the sampler moves them if needed).</summary>
    Tensor Uniform(long n);

    /// <summary>The generator's position (saved with the shard's checkpoint); null when it has none to save.</summary>
    Tensor? GetState() => null;

    /// <summary>Continues from a position <see cref="GetState"/> returned.</summary>
    void SetState(Tensor state) => throw new NotSupportedException($"{GetType().Name} has no state to restore");
}

/// <summary>A seeded libtorch generator on the shard's device (the reference seeds torch.rand's generator with cfg.seed
/// on every rank and draws on the GPU).</summary>
public sealed class TorchSampleRandom : ISampleRandom, IDisposable
{
    readonly Generator generator;

    public TorchSampleRandom(long seed, Device? device = null) => generator = new Generator((ulong)seed, device ?? CPU);

    public Tensor Uniform(long n) => torch.rand(new[] { n }, ScalarType.Float32, generator.device, generator: generator);

    public Tensor GetState() => generator.get_state();

    /// <summary>A CPU generator's state (mt19937, 5056 bytes) means nothing to a CUDA one (Philox seed and offset,
    /// 16 bytes) and the other way round: a shard resumed on another kind of device continues from the seed, as one
    /// resumed on another world size does.</summary>
    public void SetState(Tensor state)
    {
        using var current = generator.get_state();
        if (state.numel() == current.numel()) generator.set_state(state);
    }

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
