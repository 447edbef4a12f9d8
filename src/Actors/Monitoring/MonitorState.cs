namespace ActorFace.Actors.Monitoring;

/// <summary>
/// Aggregates monitoring records into what the views show: the latest record per rank / loader / shard / node,
/// rolling windows for sparklines, a bounded list of recent events, and staleness by the monitor's own clock.
/// Plain class, not thread-safe: the MonitorActor owns one; tests drive it directly.
/// </summary>
public sealed class MonitorState
{
    private readonly TimeSpan _staleAfter;
    private readonly int _maxEvents;
    private readonly int _seriesCapacity;
    private readonly Dictionary<int, Entry<WorkerMetrics>> _workers = new();
    private readonly Dictionary<int, Entry<LoaderMetrics>> _loaders = new();
    private readonly Dictionary<int, Entry<ShardMetrics>> _shards = new();
    private readonly Dictionary<string, Entry<ActorSystemStats>> _systems = new();
    private readonly Dictionary<string, VerificationMetrics> _verification = new();
    private readonly Dictionary<string, RollingSeries> _accuracy = new();
    private readonly Dictionary<string, MemberInfo> _clusterView = new();
    private readonly LinkedList<ClusterEvent> _events = new();
    private readonly RollingSeries _throughput;
    private readonly RollingSeries _loss;
    private readonly RollingSeries _learningRate;
    private CoordinatorMetrics? _coordinator;
    private long _lastThroughputStep = long.MinValue;

    public MonitorState(TimeSpan? staleAfter = null, int seriesCapacity = 120, int maxEvents = 50)
    {
        if (maxEvents < 1) throw new ArgumentOutOfRangeException(nameof(maxEvents), maxEvents, "keep at least one event");
        _staleAfter = staleAfter ?? TimeSpan.FromSeconds(15);
        _seriesCapacity = seriesCapacity;
        _maxEvents = maxEvents;
        _throughput = new RollingSeries(seriesCapacity);
        _loss = new RollingSeries(seriesCapacity);
        _learningRate = new RollingSeries(seriesCapacity);
    }

    public long MetricsReceived { get; private set; }

    /// <summary>Highest generation any record has announced: ranks reporting an older one belong to a past world.</summary>
    public long Generation { get; private set; }

    public void Apply(IMonitorMetric metric, DateTime receivedUtc)
    {
        MetricsReceived++;
        switch (metric)
        {
            case WorkerMetrics w: ApplyWorker(w, receivedUtc); break;
            case LoaderMetrics l: _loaders[l.Rank] = new(l, receivedUtc); break;
            case ShardMetrics s: _shards[s.Rank] = new(s, receivedUtc); break;
            case VerificationMetrics v: ApplyVerification(v); break;
            case CoordinatorMetrics c:
                _coordinator = c;
                Generation = Math.Max(Generation, c.Generation);
                break;
            case ClusterEvent e:
                Generation = Math.Max(Generation, e.Generation);
                AddEvent(e);
                break;
            case ActorSystemStats a: _systems[a.Node] = new(a, receivedUtc); break;
            default:
                throw new ArgumentException($"MonitorState: no aggregation for record type {metric.GetType().FullName}");
        }
    }

    /// <summary>The monitor's own cluster view (member up / unreachable / removed), independent of the coordinator.</summary>
    public void ApplyMember(string address, string status, IReadOnlyList<string> roles, DateTime receivedUtc)
    {
        var known = _clusterView.TryGetValue(address, out var previous);
        if (known && previous!.Status == status) return;
        _clusterView[address] = new MemberInfo(address, status, roles, -1);
        var kind = status switch
        {
            "Up" or "Joining" or "WeaklyUp" => ClusterEventKind.Joined,
            "Unreachable" => ClusterEventKind.Failed,
            "Removed" or "Exiting" or "Leaving" or "Down" => ClusterEventKind.Left,
            _ => ClusterEventKind.Info,
        };
        var roleText = roles.Count == 0 ? "" : $" [{string.Join(",", roles)}]";
        AddEvent(new ClusterEvent(address, kind, Generation, -1, $"member {status}{roleText}",
            new DateTimeOffset(receivedUtc).ToUnixTimeMilliseconds()));
    }

    public MonitorSnapshot Snapshot(DateTime nowUtc)
    {
        var workers = _workers.OrderBy(kv => kv.Key).Select(kv => Observe(kv.Value, nowUtc, kv.Value.Latest.Generation)).ToArray();
        var fresh = workers.Where(w => !w.Stale).ToArray();
        return new MonitorSnapshot(
            TakenAtUtc: nowUtc,
            Generation: Generation,
            GlobalStep: workers.Length == 0 ? (_coordinator?.GlobalStep ?? 0) : workers.Max(w => w.Latest.GlobalStep),
            ClusterSamplesPerSecond: fresh.Sum(w => w.Latest.SamplesPerSecond),
            MetricsReceived: MetricsReceived,
            Members: Members(),
            Workers: workers,
            Loaders: _loaders.OrderBy(kv => kv.Key).Select(kv => Observe(kv.Value, nowUtc)).ToArray(),
            Shards: _shards.OrderBy(kv => kv.Key).Select(kv => Observe(kv.Value, nowUtc)).ToArray(),
            Coordinator: _coordinator,
            Systems: _systems.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Observe(kv.Value, nowUtc)).ToArray(),
            Verification: new SortedDictionary<string, VerificationMetrics>(_verification, StringComparer.Ordinal),
            Series: new SeriesSet(
                _throughput.ToList(), _loss.ToList(), _learningRate.ToList(),
                new SortedDictionary<string, IReadOnlyList<SeriesPoint>>(
                    _accuracy.ToDictionary(kv => kv.Key, kv => kv.Value.ToList()), StringComparer.Ordinal)),
            RecentEvents: _events.ToArray());
    }

    private void ApplyWorker(WorkerMetrics w, DateTime receivedUtc)
    {
        _workers[w.Rank] = new(w, receivedUtc);
        Generation = Math.Max(Generation, w.Generation);
        if (w.State != WorkerState.Training) return;
        // Loss and lr are global (all-reduced), so any rank's record is the cluster's value for that step.
        if (!double.IsNaN(w.Loss)) _loss.Add(w.GlobalStep, w.Loss);
        _learningRate.Add(w.GlobalStep, w.LearningRate);
        if (w.GlobalStep > _lastThroughputStep)
        {
            _lastThroughputStep = w.GlobalStep;
            _throughput.Add(w.GlobalStep, _workers.Values
                .Where(e => e.Latest.Generation == Generation && receivedUtc - e.ReceivedUtc <= _staleAfter)
                .Sum(e => e.Latest.SamplesPerSecond));
        }
    }

    private void ApplyVerification(VerificationMetrics v)
    {
        _verification[v.Target] = v;
        if (!_accuracy.TryGetValue(v.Target, out var series))
            _accuracy[v.Target] = series = new RollingSeries(_seriesCapacity);
        series.Add(v.GlobalStep, v.Accuracy);
    }

    private void AddEvent(ClusterEvent e)
    {
        _events.AddFirst(e);
        while (_events.Count > _maxEvents) _events.RemoveLast();
    }

    private IReadOnlyList<MemberInfo> Members()
    {
        var merged = new SortedDictionary<string, MemberInfo>(_clusterView, StringComparer.Ordinal);
        foreach (var m in _coordinator?.Members ?? [])
        {
            // The monitor's own view has the fresher status; the coordinator knows the ranks.
            merged[m.Address] = merged.TryGetValue(m.Address, out var own) ? own with { Rank = m.Rank } : m;
        }
        return merged.Values.ToArray();
    }

    private Observed<T> Observe<T>(Entry<T> entry, DateTime nowUtc, long? generation = null)
    {
        var age = (nowUtc - entry.ReceivedUtc).TotalSeconds;
        var stale = age > _staleAfter.TotalSeconds || (generation is { } g && g < Generation);
        return new Observed<T>(entry.Latest, Math.Max(0, age), stale);
    }

    private sealed record Entry<T>(T Latest, DateTime ReceivedUtc);
}
