namespace ActorFace.Actors.Workers;

public enum NonFiniteVerdict { Trained, Skipped, RollBack }

/// <summary>
/// Counts steps whose loss was NaN or infinite (the trainer skipped their update) and decides when skipping is no
/// longer enough: after <c>max_nonfinite_steps</c> in a row the weights or the data position are bad, and the rank
/// fails so that the generation rolls back to the last complete checkpoint (the fault-recovery path). A finite
/// step resets the run of consecutive ones; the total is kept for the metric.
/// </summary>
public sealed class NonFiniteLossGuard(int maxConsecutive)
{
    public int MaxConsecutive { get; } = maxConsecutive >= 1 ? maxConsecutive : throw new ArgumentOutOfRangeException(nameof(maxConsecutive));

    /// <summary>Non-finite steps in a row up to the last one observed.</summary>
    public int Consecutive { get; private set; }

    /// <summary>Non-finite (skipped) steps of this rank's generation in all.</summary>
    public long Skipped { get; private set; }

    public NonFiniteVerdict Observe(double loss)
    {
        if (double.IsFinite(loss))
        {
            Consecutive = 0;
            return NonFiniteVerdict.Trained;
        }
        Consecutive++;
        Skipped++;
        return Consecutive >= MaxConsecutive ? NonFiniteVerdict.RollBack : NonFiniteVerdict.Skipped;
    }
}

/// <summary>Thrown by a rank whose loss stayed non-finite for max_nonfinite_steps steps: its node reports the failure
/// and the coordinator restarts the generation from the last complete checkpoint.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);
