namespace ActorFace.Model.Training;

/// <summary>How backbone gradients travel in the all-reduce (spec §5.2 fp16_compress_hook).</summary>
public enum GradientCompression
{
    /// <summary>float32 average (exact up to summation order).</summary>
    None,
    /// <summary>arcface_torch's DDP hook: each bucket is cast to float16 and divided by W before the sum, then cast back.</summary>
    Float16,
}

/// <summary>
/// Settings of one rank's training iteration (spec §5.2–5.4). Lr, weight decay and optimiser apply to both parameter
/// groups (backbone here, Partial FC shard in its own options, which must agree). TotalSteps and WarmupSteps count
/// iterations, not optimiser steps. Bf16 keeps float32 master weights and runs the backbone in bfloat16 (CPU
/// substitute for fp16 autocast; bfloat16 has float32's range, so no GradScaler is needed).
/// </summary>
public sealed record RankTrainerOptions
{
    public double Lr { get; init; } = 0.1;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public int GradientAcc { get; init; } = 1;
    public double ClipNorm { get; init; } = 5.0;
    public int WarmupSteps { get; init; }
    public int TotalSteps { get; init; } = 1;
    public double LrPower { get; init; } = 1.0;
    public bool Bf16 { get; init; }
    public GradientCompression Compression { get; init; } = GradientCompression.Float16;
    public long BucketBytes { get; init; } = 16L << 20;
    /// <summary>fp16: dynamic loss scaling (GradScaler); null = none (float32 and bf16 runs).</summary>
    public GradScalerOptions? LossScaling { get; init; }

    public void Validate()
    {
        if (GradientAcc < 1) throw new ArgumentOutOfRangeException(nameof(GradientAcc), GradientAcc, "gradient_acc must be >= 1");
        if (TotalSteps < 0) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "total_step must be >= 0");
        if (!(ClipNorm > 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "clip norm must be > 0");
        if (BucketBytes < 1024) throw new ArgumentOutOfRangeException(nameof(BucketBytes), BucketBytes, "bucket size must be >= 1 KiB");
        LossScaling?.Validate();
    }
}

/// <summary>Wall time of each phase of one iteration.</summary>
public sealed record StepTimings(TimeSpan Forward, TimeSpan PartialFC, TimeSpan Backward, TimeSpan AllReduce, TimeSpan Optimizer)
{
    public TimeSpan Total => Forward + PartialFC + Backward + AllReduce + Optimizer;
}

/// <summary>
/// Outcome of one iteration. Lr is the lr this iteration used; NextLr the one the next uses (what arcface_torch logs).
/// GradNorm is the backbone's total L2 gradient norm before clipping, NaN on accumulation-only iterations.
/// </summary>
public sealed record StepResult(long GlobalStep, float Loss, double Lr, double NextLr, double GradNorm, bool OptimizerStepped, StepTimings Timings)
{
    /// <summary>The GradScaler's scale after this iteration's update, what arcface_torch logs (NaN without fp16).</summary>
    public double LossScale { get; init; } = double.NaN;
    /// <summary>True when the GradScaler found inf/NaN gradients and skipped the optimiser step.</summary>
    public bool SkippedByScaler { get; init; }
}
