using System.Globalization;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

/// <summary>Settings of <see cref="GradScaler"/>: PyTorch's defaults, growth interval as train_v2.py passes it.</summary>
public sealed record GradScalerOptions
{
    public double InitScale { get; init; } = 65536.0;
    public double GrowthFactor { get; init; } = 2.0;
    public double BackoffFactor { get; init; } = 0.5;
    /// <summary>Consecutive finite steps before the scale grows. train_v2.py: GradScaler(growth_interval=100)
    /// (spec §5.2 step 9); PyTorch's own default is 2000.</summary>
    public int GrowthInterval { get; init; } = 100;

    public void Validate()
    {
        if (!(InitScale > 0) || double.IsInfinity(InitScale)) throw new ArgumentOutOfRangeException(nameof(InitScale), InitScale, "initial loss scale must be a positive finite number");
        if (!(GrowthFactor > 1)) throw new ArgumentOutOfRangeException(nameof(GrowthFactor), GrowthFactor, "growth factor must be > 1");
        if (!(BackoffFactor > 0 && BackoffFactor < 1)) throw new ArgumentOutOfRangeException(nameof(BackoffFactor), BackoffFactor, "backoff factor must be in (0, 1)");
        if (GrowthInterval < 1) throw new ArgumentOutOfRangeException(nameof(GrowthInterval), GrowthInterval, "fp16_growth_interval must be >= 1");
    }
}

/// <summary>Scale and growth tracker, what torch.cuda.amp.GradScaler.state_dict() holds besides its constants.</summary>
public readonly record struct GradScalerState(double Scale, int GrowthTracker);

/// <summary>
/// Dynamic loss scaling with the semantics of torch.cuda.amp.GradScaler as train_v2.py uses it (spec §5.3): the loss
/// gradient is multiplied by <see cref="Scale"/>; before clipping, every gradient (backbone and Partial FC) is
/// multiplied by 1/scale (exact: the scale is a power of two) and checked for inf/NaN; with any, the optimiser step is
/// skipped, the scale halves and the growth count restarts; after <see cref="GradScalerOptions.GrowthInterval"/>
/// finite steps in a row the scale doubles. Unlike the reference the inf flag is combined over ranks (Max), so every
/// rank skips the same steps and replicated backbones never drift apart.
/// </summary>
public sealed class GradScaler
{
    public GradScalerOptions Options { get; }
    public double Scale { get; private set; }
    public int GrowthTracker { get; private set; }
    /// <summary>Optimiser steps skipped because of inf/NaN gradients since construction (not checkpointed).</summary>
    public long SkippedSteps { get; private set; }

    public GradScaler(GradScalerOptions? options = null)
    {
        Options = options ?? new GradScalerOptions();
        Options.Validate();
        Scale = Options.InitScale;
    }

    /// <summary>
    /// Multiplies every gradient by 1/<see cref="Scale"/> in place and says whether any of them holds an inf or NaN
    /// on any rank. The check runs on the gradients' device; only the combined one-element flag is read back.
    /// </summary>
    public bool UnscaleAndCheck(IEnumerable<Tensor> gradients, ICollective? collective)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var inverse = 1.0 / Scale;
        Tensor? found = null;
        foreach (var g in gradients)
        {
            g.mul_(inverse);
            var bad = torch.isfinite(g).all().logical_not();
            found = found is null ? bad : found.logical_or_(bad);
        }
        var flag = found is null ? torch.zeros(1, ScalarType.Float32) : found.to_type(ScalarType.Float32).reshape(1);
        // Host-memory collectives stage a device tensor themselves; NCCL reduces it in place.
        if (collective is { WorldSize: > 1 }) collective.AllReduce(flag, ReduceOp.Max);
        return flag.item<float>() != 0;
    }

    /// <summary>GradScaler.update(): back off on overflow (and count the skipped step), grow after enough good steps.</summary>
    public void Update(bool foundInf)
    {
        if (foundInf)
        {
            Scale *= Options.BackoffFactor;
            GrowthTracker = 0;
            SkippedSteps++;
            return;
        }
        if (++GrowthTracker >= Options.GrowthInterval)
        {
            var grown = Scale * Options.GrowthFactor;
            // PyTorch keeps the old scale when growing would overflow float32.
            if (!float.IsInfinity((float)grown)) Scale = grown;
            GrowthTracker = 0;
        }
    }

    public GradScalerState GetState() => new(Scale, GrowthTracker);

    public void LoadState(GradScalerState state)
    {
        if (!(state.Scale > 0) || double.IsInfinity(state.Scale)) throw new InvalidDataException($"loss scale {state.Scale} is not a positive finite number");
        if (state.GrowthTracker < 0) throw new InvalidDataException($"growth tracker {state.GrowthTracker} is negative");
        (Scale, GrowthTracker) = (state.Scale, state.GrowthTracker);
    }

    /// <summary>Writes the state into checkpoint metadata under "grad_scaler.*".</summary>
    public void WriteTo(IDictionary<string, string> meta)
    {
        meta["grad_scaler.scale"] = Scale.ToString("R", CultureInfo.InvariantCulture);
        meta["grad_scaler.growth_tracker"] = GrowthTracker.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Restores what <see cref="WriteTo"/> wrote; a checkpoint without it (written without fp16) restarts
    /// at the initial scale, as arcface_torch does on every resume.</summary>
    public void ReadFrom(IReadOnlyDictionary<string, string> meta, string path)
    {
        if (!meta.TryGetValue("grad_scaler.scale", out var scale)) { (Scale, GrowthTracker) = (Options.InitScale, 0); return; }
        if (!double.TryParse(scale, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            || !meta.TryGetValue("grad_scaler.growth_tracker", out var tracker)
            || !int.TryParse(tracker, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t))
            throw new InvalidDataException($"{path}: grad_scaler.scale / grad_scaler.growth_tracker are missing or not numbers");
        try { LoadState(new GradScalerState(s, t)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }
}
