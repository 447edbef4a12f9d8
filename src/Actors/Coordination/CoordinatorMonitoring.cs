using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using Akka.Actor;
using ClusterEvent = ActorFace.Actors.Monitoring.ClusterEvent;

namespace ActorFace.Actors.Coordination;

/// <summary>What the coordinator tells monitors: cluster events as they happen and its view of the job.</summary>
internal sealed class CoordinatorMonitoring(ActorSystem system, string node)
{
    private readonly List<RecoveryInfo> _recoveries = [];
    private CheckpointInfo? _lastCheckpoint;
    private long _step;
    private double _eta = double.NaN;
    private DateTime? _recoveryStarted;
    private string _recoveryCause = "";

    public void Event(ClusterEventKind kind, long generation, long step, string message)
    {
        if (kind == ClusterEventKind.RecoveryStarted)
        {
            _recoveryStarted = DateTime.UtcNow;
            _recoveryCause = message;
        }
        else if (kind == ClusterEventKind.Recovered && _recoveryStarted is { } started)
        {
            _recoveries.Add(new RecoveryInfo(generation, _recoveryCause, (DateTime.UtcNow - started).TotalSeconds, step, MetricClock.NowMs()));
            _recoveryStarted = null;
        }
        MetricsPublisher.Publish(system, new ClusterEvent(node, kind, generation, step, message, MetricClock.NowMs()));
    }

    public void Checkpoint(long step, string manifest) => _lastCheckpoint = new CheckpointInfo(step, manifest, MetricClock.NowMs());

    public void Progress(TrainingProgress p, CoordinatorState state)
    {
        _step = p.Step;
        _eta = p.SamplesPerSecond > 0 && state.Plan is { } plan
            ? (state.EndStepOfPlan - p.Step) * (double)plan.TotalBatchSize / p.SamplesPerSecond
            : double.NaN;
    }

    public void Publish(CoordinatorState state)
    {
        var ranks = state.Ranks.GroupBy(r => r.NodeId).ToDictionary(g => g.Key, g => g.Min(r => r.Rank));
        var members = state.Nodes.Select(n => new MemberInfo(n, "Up", ["worker"], ranks.GetValueOrDefault(n, -1))).ToList();
        MetricsPublisher.Publish(system, new CoordinatorMetrics(node, state.Generation, members, _recoveries, _lastCheckpoint,
            Math.Max(_step, state.LastCompleteStep), state.EndStepOfPlan, _eta, MetricClock.NowMs()));
    }
}
