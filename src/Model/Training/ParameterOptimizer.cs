using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

public enum OptimizerKind { Sgd, AdamW }

/// <summary>
/// Minimal re-implementations of torch.optim.SGD / AdamW (PyTorch 1.13 single-tensor code paths, same operation
/// order), with the lr passed per step by the schedule. Own code instead of TorchSharp's optimisers because Partial FC
/// must read, slice and rebuild the per-row state (momentum, exp_avg) when the world size changes.
/// Per-parameter state is exposed by name: momentum_buffer (SGD); exp_avg, exp_avg_sq, step (AdamW).
/// </summary>
public abstract class ParameterOptimizer : IDisposable
{
    public IReadOnlyList<Tensor> Parameters { get; }
    public double WeightDecay { get; }
    public abstract OptimizerKind Kind { get; }

    protected ParameterOptimizer(IReadOnlyList<Tensor> parameters, double weightDecay)
    {
        Parameters = parameters;
        WeightDecay = weightDecay;
    }

    public static ParameterOptimizer Create(OptimizerKind kind, IReadOnlyList<Tensor> parameters, double weightDecay, double momentum = 0.9) =>
        kind switch
        {
            OptimizerKind.Sgd => new SgdOptimizer(parameters, momentum, weightDecay),
            OptimizerKind.AdamW => new AdamWOptimizer(parameters, weightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "optimizer must be sgd or adamw"),
        };

    public static OptimizerKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new ArgumentException($"optimizer '{name}' is not supported: use sgd or adamw"),
    };

    /// <summary>One update of every parameter that has a gradient (parameters without one are skipped, as in PyTorch).</summary>
    public void Step(double lr)
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.grad is null) continue;
            using var scope = torch.NewDisposeScope();
            Update(i, p, p.grad, lr);
        }
    }

    /// <summary>Zeroes the gradients in place (PyTorch 1.13's zero_grad default), so their buffers are reused.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad?.zero_();
    }

    protected abstract void Update(int index, Tensor param, Tensor grad, double lr);

    /// <summary>The state of parameter <paramref name="index"/> by name; empty before its first update.</summary>
    public abstract IReadOnlyDictionary<string, Tensor> GetState(int index);

    /// <summary>Replaces the state of parameter <paramref name="index"/> (copies the tensors; shapes are checked).</summary>
    public abstract void SetState(int index, IReadOnlyDictionary<string, Tensor> state);

    protected static Tensor CheckedCopy(IReadOnlyDictionary<string, Tensor> state, string key, Tensor param, int index)
    {
        if (!state.TryGetValue(key, out var t)) throw new InvalidOperationException($"optimizer state of parameter {index}: missing '{key}'");
        if (!t.shape.SequenceEqual(param.shape))
            throw new InvalidOperationException(
                $"optimizer state of parameter {index}: '{key}' has shape [{string.Join(",", t.shape)}], parameter has [{string.Join(",", param.shape)}]");
        return t.detach().to(param.dtype, param.device).clone().DetachFromDisposeScope();
    }

    public abstract void Dispose();
}

/// <summary>torch.optim.SGD(momentum μ, weight_decay λ), no dampening, no Nesterov: d = g + λp; buf = d | μ·buf + d; p -= lr·buf.</summary>
public sealed class SgdOptimizer : ParameterOptimizer
{
    readonly Tensor?[] buffers;
    public double Momentum { get; }
    public override OptimizerKind Kind => OptimizerKind.Sgd;

    public SgdOptimizer(IReadOnlyList<Tensor> parameters, double momentum, double weightDecay) : base(parameters, weightDecay)
    {
        Momentum = momentum;
        buffers = new Tensor?[parameters.Count];
    }

    protected override void Update(int index, Tensor param, Tensor grad, double lr)
    {
        var d = WeightDecay != 0 ? grad.add(param, alpha: WeightDecay) : grad;
        if (Momentum != 0)
        {
            if (buffers[index] is null) buffers[index] = d.detach().clone().DetachFromDisposeScope();
            else buffers[index]!.mul_(Momentum).add_(d);
            d = buffers[index]!;
        }
        param.add_(d, alpha: -lr);
    }

    public override IReadOnlyDictionary<string, Tensor> GetState(int index) =>
        buffers[index] is { } b ? new Dictionary<string, Tensor> { ["momentum_buffer"] = b } : new Dictionary<string, Tensor>();

    /// <summary>The momentum buffer of parameter <paramref name="index"/>, created as zeros when no step has run yet
    /// (μ·0 + d is d: the same first update as PyTorch's clone of d).</summary>
    public Tensor MomentumBuffer(int index) =>
        buffers[index] ??= torch.zeros_like(Parameters[index]).DetachFromDisposeScope();

    public override void SetState(int index, IReadOnlyDictionary<string, Tensor> state)
    {
        buffers[index]?.Dispose();
        buffers[index] = state.Count == 0 ? null : CheckedCopy(state, "momentum_buffer", Parameters[index], index);
    }

    public override void Dispose()
    {
        foreach (var b in buffers) b?.Dispose();
    }
}

/// <summary>torch.optim.AdamW(betas (0.9, 0.999), eps 1e-8, decoupled weight decay), PyTorch 1.13 single-tensor path.</summary>
public sealed class AdamWOptimizer : ParameterOptimizer
{
    readonly Tensor?[] expAvg, expAvgSq;
    readonly long[] steps;
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public override OptimizerKind Kind => OptimizerKind.AdamW;

    public AdamWOptimizer(IReadOnlyList<Tensor> parameters, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
        : base(parameters, weightDecay)
    {
        (Beta1, Beta2, Eps) = (beta1, beta2, eps);
        expAvg = new Tensor?[parameters.Count];
        expAvgSq = new Tensor?[parameters.Count];
        steps = new long[parameters.Count];
    }

    protected override void Update(int index, Tensor param, Tensor grad, double lr)
    {
        expAvg[index] ??= torch.zeros_like(param).DetachFromDisposeScope();
        expAvgSq[index] ??= torch.zeros_like(param).DetachFromDisposeScope();
        var step = ++steps[index];
        param.mul_(1 - lr * WeightDecay);
        expAvg[index]!.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
        expAvgSq[index]!.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
        var bias1 = 1 - Math.Pow(Beta1, step);
        var bias2 = 1 - Math.Pow(Beta2, step);
        var denom = (expAvgSq[index]!.sqrt() / Math.Sqrt(bias2)).add_(Eps);
        param.addcdiv_(expAvg[index]!, denom, value: -(lr / bias1));
    }

    public override IReadOnlyDictionary<string, Tensor> GetState(int index)
    {
        if (expAvg[index] is null) return new Dictionary<string, Tensor>();
        return new Dictionary<string, Tensor>
        {
            ["exp_avg"] = expAvg[index]!,
            ["exp_avg_sq"] = expAvgSq[index]!,
            ["step"] = torch.tensor((double)steps[index], ScalarType.Float64),
        };
    }

    public override void SetState(int index, IReadOnlyDictionary<string, Tensor> state)
    {
        expAvg[index]?.Dispose();
        expAvgSq[index]?.Dispose();
        if (state.Count == 0) { expAvg[index] = expAvgSq[index] = null; steps[index] = 0; return; }
        expAvg[index] = CheckedCopy(state, "exp_avg", Parameters[index], index);
        expAvgSq[index] = CheckedCopy(state, "exp_avg_sq", Parameters[index], index);
        if (!state.TryGetValue("step", out var s)) throw new InvalidOperationException($"optimizer state of parameter {index}: missing 'step'");
        steps[index] = (long)s.to_type(ScalarType.Float64).item<double>();
    }

    public override void Dispose()
    {
        foreach (var t in expAvg) t?.Dispose();
        foreach (var t in expAvgSq) t?.Dispose();
    }
}
