using ActorFace.Model.Training;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// Settings of one rank's Partial FC shard. SGD momentum is fixed at 0.9 in arcface_torch (cfg.momentum is not read);
/// it is a parameter here with that default. InitSeed makes the N(0, 0.01) initialisation independent of the world
/// size: each block of <see cref="PartialFCShard.InitBlockClasses"/> classes has its own generator.
/// DeferredUpdate (SGD with momentum, sample rate &lt; 1): unsampled centres take their weight decay and momentum when
/// next sampled or saved (<see cref="DeferredRowSgd"/>; same mathematics, float rounding differs); false = the dense
/// update every step, rounded as arcface_torch rounds it. The deferred update needs the centres in host memory, so a
/// shard on a CUDA device always takes the dense update, as the reference does.
/// Device: where the centres, their gradient, optimiser state and the sampling live (null = CPU); the initial centres
/// are drawn on the CPU from the seed and moved, so they are the same on every device.
/// </summary>
public sealed record PartialFCOptions(
    double SampleRate = 1.0,
    OptimizerKind Optimizer = OptimizerKind.Sgd,
    double Momentum = 0.9,
    double WeightDecay = 5e-4,
    long InitSeed = 2048,
    bool DeferredUpdate = true,
    TorchSharp.torch.Device? Device = null);

/// <summary>What one Partial FC forward/backward returns: the global loss and d(loss)/d(local embeddings) ×W.</summary>
public sealed record PartialFCResult(float Loss, TorchSharp.torch.Tensor EmbeddingGrad, long NumColumns) : IDisposable
{
    public void Dispose() => EmbeddingGrad.Dispose();
}
