namespace ActorFace.Model.Training;

/// <summary>
/// arcface_torch's lr_scheduler.PolynomialLRWarmup, stepped once per iteration (spec §5.4). Reproduces the
/// reference sequence to the last ulp: the value at last_epoch = 0 is the base lr (constructor quirk), warmup is
/// base·l/w, decay multiplies the previous lr by the ratio of consecutive polynomial factors (chained, float64),
/// and beyond total_iters the lr stays where it is.
/// </summary>
public sealed class PolynomialLRWarmup
{
    public double BaseLr { get; }
    public int WarmupIters { get; }
    public int TotalIters { get; }
    public double Power { get; }

    /// <summary>Number of <see cref="Step"/> calls so far (PyTorch's last_epoch).</summary>
    public long LastEpoch { get; private set; }

    /// <summary>The current lr (get_last_lr()[0]): what the next iteration uses.</summary>
    public double LastLr { get; private set; }

    public PolynomialLRWarmup(double baseLr, int warmupIters, int totalIters, double power = 1.0)
    {
        if (!(baseLr >= 0) || double.IsInfinity(baseLr)) throw new ArgumentOutOfRangeException(nameof(baseLr), baseLr, "lr must be finite and >= 0");
        if (totalIters < 0) throw new ArgumentOutOfRangeException(nameof(totalIters), totalIters, "total_iters must be >= 0");
        (BaseLr, WarmupIters, TotalIters, Power) = (baseLr, warmupIters, totalIters, power);
        LastLr = baseLr;
    }

    /// <summary>Advances one iteration and returns the new lr.</summary>
    public double Step()
    {
        LastEpoch++;
        LastLr = Compute(LastEpoch, LastLr);
        return LastLr;
    }

    double Compute(long l, double previous)
    {
        if (l == 0 || l > TotalIters) return previous;
        if (l <= WarmupIters) return BaseLr * l / WarmupIters;
        // Python: ((1.0 - (l - w) / (t - w)) / (1.0 - (l - 1 - w) / (t - w))) ** power, with int l, w, t.
        var ratio = (1.0 - (double)(l - WarmupIters) / (TotalIters - WarmupIters))
                    / (1.0 - (double)(l - 1 - WarmupIters) / (TotalIters - WarmupIters));
        return previous * Math.Pow(ratio, Power);
    }

    public PolynomialLRWarmupState GetState() => new(BaseLr, WarmupIters, TotalIters, Power, LastEpoch, LastLr);

    /// <summary>Restores last_epoch and the last lr; the hyper-parameters must match (a resumed job keeps its schedule).</summary>
    public void LoadState(PolynomialLRWarmupState state)
    {
        if (state.BaseLr != BaseLr || state.WarmupIters != WarmupIters || state.TotalIters != TotalIters || state.Power != Power)
            throw new InvalidOperationException(
                $"PolynomialLRWarmup state (base_lr={state.BaseLr}, warmup_iters={state.WarmupIters}, total_iters={state.TotalIters}, " +
                $"power={state.Power}) does not match this schedule (base_lr={BaseLr}, warmup_iters={WarmupIters}, " +
                $"total_iters={TotalIters}, power={Power})");
        if (state.LastEpoch < 0) throw new InvalidOperationException($"PolynomialLRWarmup state: last_epoch {state.LastEpoch} < 0");
        LastEpoch = state.LastEpoch;
        LastLr = state.LastLr;
    }
}

/// <summary>The scheduler's state_dict (the subset that changes the sequence).</summary>
public sealed record PolynomialLRWarmupState(double BaseLr, int WarmupIters, int TotalIters, double Power, long LastEpoch, double LastLr);
