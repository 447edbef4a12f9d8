namespace ActorFace.Actors.Monitoring;

public sealed record SeriesPoint(long Step, double Value);

/// <summary>Bounded (step, value) window for sparklines; one point per step, oldest dropped first.</summary>
public sealed class RollingSeries
{
    private readonly Queue<SeriesPoint> _points = new();
    private SeriesPoint? _last;

    public RollingSeries(int capacity)
    {
        if (capacity < 2) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a series needs at least 2 points");
        Capacity = capacity;
    }

    public int Capacity { get; }
    public int Count => _points.Count;

    /// <summary>
    /// Adds a point unless the step is already the latest one (every rank reports the same global loss and lr).
    /// A step lower than the last one is kept: it is a resume from a checkpoint and the chart should show it.
    /// </summary>
    public bool Add(long step, double value)
    {
        if (_last is not null && _last.Step == step) return false;
        _last = new SeriesPoint(step, value);
        _points.Enqueue(_last);
        while (_points.Count > Capacity) _points.Dequeue();
        return true;
    }

    public IReadOnlyList<SeriesPoint> ToList() => _points.ToArray();
}
