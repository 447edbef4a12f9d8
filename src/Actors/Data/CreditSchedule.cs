namespace ActorFace.Actors.Data;

/// <summary>
/// The loader's decision logic, free of threads and actors: which step to start decoding next and which
/// finished step may be handed out. Invariant: steps started but not delivered &lt;= min(credits, prefetch),
/// and delivery is in step order.
/// </summary>
public sealed class CreditSchedule(int prefetch)
{
    readonly HashSet<int> ready = [];
    int nextDispatch, nextDeliver, numSteps;

    public int Credits { get; private set; }
    public int Prefetch { get; } = prefetch >= 1 ? prefetch : throw new ArgumentOutOfRangeException(nameof(prefetch));
    public int NextDeliver => nextDeliver;
    public int Ahead => nextDispatch - nextDeliver;
    public int ReadyCount => ready.Count;
    public int InFlight => Ahead - ready.Count;
    public bool EpochDone => nextDeliver >= numSteps;
    public bool Active { get; private set; }

    /// <summary>New epoch or resume point; in-flight work of the previous one no longer counts.</summary>
    public void Reset(int firstStep, int steps)
    {
        if (firstStep < 0 || firstStep > steps) throw new ArgumentOutOfRangeException(nameof(firstStep), firstStep, $"epoch has {steps} steps");
        (nextDispatch, nextDeliver, numSteps) = (firstStep, firstStep, steps);
        ready.Clear();
        Active = true;
    }

    public void Grant(int credits)
    {
        if (credits < 1) throw new ArgumentOutOfRangeException(nameof(credits), credits, "must be >= 1");
        Credits += credits;
    }

    public bool TryDispatch(out int step)
    {
        step = nextDispatch;
        if (!Active || nextDispatch >= numSteps || Ahead >= Math.Min(Credits, Prefetch)) return false;
        nextDispatch++;
        return true;
    }

    public void Completed(int step)
    {
        if (step < nextDeliver || step >= nextDispatch) throw new InvalidOperationException($"step {step} was not in flight");
        ready.Add(step);
    }

    public bool TryDeliver(out int step)
    {
        step = nextDeliver;
        if (!Active || Credits == 0 || !ready.Remove(nextDeliver)) return false;
        nextDeliver++;
        Credits--;
        return true;
    }

    /// <summary>True while the consumer holds credits and the next batch is not ready (it is waiting on us).</summary>
    public bool ConsumerWaiting => Active && Credits > 0 && !EpochDone && !ready.Contains(nextDeliver);
}
