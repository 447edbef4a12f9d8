using ActorFace.Actors.Monitoring;

namespace ActorFace.Actors.Tests.Monitoring;

public class MonitorStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void KeepsLatestRecordPerRankAndSumsThroughput()
    {
        var state = new MonitorState();
        state.Apply(SampleMetrics.Worker(0, 10), T0);
        state.Apply(SampleMetrics.Worker(1, 10), T0);
        state.Apply(SampleMetrics.Worker(0, 20, loss: 30), T0.AddSeconds(1));

        var snap = state.Snapshot(T0.AddSeconds(2));

        Assert.Equal([0, 1], snap.Workers.Select(w => w.Latest.Rank));
        Assert.Equal(20, snap.Workers[0].Latest.GlobalStep);
        Assert.Equal(30, snap.Workers[0].Latest.Loss);
        Assert.Equal(20, snap.GlobalStep);
        Assert.Equal(100.0 + 101.0, snap.ClusterSamplesPerSecond, 9);
        Assert.Equal(3, snap.MetricsReceived);
        Assert.Equal(1.0, snap.Workers[0].AgeSeconds, 9);
    }

    [Fact]
    public void SeriesHoldOnePointPerStepAndStayBounded()
    {
        var state = new MonitorState(seriesCapacity: 4);
        for (var step = 1; step <= 6; step++)
        {
            state.Apply(SampleMetrics.Worker(0, step, loss: 50 - step), T0);
            state.Apply(SampleMetrics.Worker(1, step, loss: 50 - step), T0);
        }

        var series = state.Snapshot(T0).Series;

        Assert.Equal([3L, 4, 5, 6], series.Loss.Select(p => p.Step));
        Assert.Equal([47.0, 46, 45, 44], series.Loss.Select(p => p.Value));
        Assert.Equal(4, series.LearningRate.Count);
        Assert.Equal([3L, 4, 5, 6], series.Throughput.Select(p => p.Step));
    }

    [Fact]
    public void NonTrainingRecordsDoNotFeedTheCharts()
    {
        var state = new MonitorState();
        state.Apply(SampleMetrics.Worker(0, 5, state: WorkerState.Recovering), T0);

        var snap = state.Snapshot(T0);

        Assert.Single(snap.Workers);
        Assert.Equal(WorkerState.Recovering, snap.Workers[0].Latest.State);
        Assert.Empty(snap.Series.Loss);
        Assert.Empty(snap.Series.Throughput);
    }

    [Fact]
    public void OldRecordsAndPastGenerationsAreStale()
    {
        var state = new MonitorState(staleAfter: TimeSpan.FromSeconds(10));
        state.Apply(SampleMetrics.Worker(0, 10, generation: 2), T0);
        state.Apply(SampleMetrics.Worker(1, 10, generation: 2), T0.AddSeconds(-30));
        state.Apply(SampleMetrics.Worker(2, 10, generation: 1), T0);

        var snap = state.Snapshot(T0.AddSeconds(1));

        Assert.Equal(2, snap.Generation);
        Assert.Equal([false, true, true], snap.Workers.Select(w => w.Stale));
        Assert.Equal(100.0, snap.ClusterSamplesPerSecond, 9);
    }

    [Fact]
    public void RecentEventsAreBoundedNewestFirst()
    {
        var state = new MonitorState(maxEvents: 3);
        for (var i = 0; i < 5; i++)
            state.Apply(new ClusterEvent("n", ClusterEventKind.Info, 1, i, $"event {i}", i), T0);

        var events = state.Snapshot(T0).RecentEvents;

        Assert.Equal(["event 4", "event 3", "event 2"], events.Select(e => e.Message));
    }

    [Fact]
    public void MembershipChangesBecomeEventsOnceAndCoordinatorAddsRanks()
    {
        var state = new MonitorState();
        const string a = "akka.tcp://actorface@127.0.0.1:4053";
        state.ApplyMember(a, "Up", ["worker"], T0);
        state.ApplyMember(a, "Up", ["worker"], T0);
        state.ApplyMember("akka.tcp://actorface@127.0.0.1:4060", "Up", ["monitor"], T0);
        state.ApplyMember(a, "Unreachable", ["worker"], T0);
        state.Apply(SampleMetrics.Coordinator(generation: 3), T0);

        var snap = state.Snapshot(T0);

        Assert.Equal(3, snap.RecentEvents.Count);
        Assert.Equal(ClusterEventKind.Failed, snap.RecentEvents[0].Kind);
        var members = snap.Members.ToDictionary(m => m.Address);
        Assert.Equal(3, members.Count);
        Assert.Equal(("Unreachable", 0), (members[a].Status, members[a].Rank));
        Assert.Equal(1, members["akka.tcp://actorface@127.0.0.1:4054"].Rank);
        Assert.Equal(-1, members["akka.tcp://actorface@127.0.0.1:4060"].Rank);
        Assert.Equal(3, snap.Generation);
    }

    [Fact]
    public void VerificationAccuracyIsKeptPerTarget()
    {
        var state = new MonitorState();
        state.Apply(new VerificationMetrics("n", "lfw", 100, 0.90, 0.90, 0), T0);
        state.Apply(new VerificationMetrics("n", "agedb_30", 100, 0.70, 0.70, 0), T0);
        state.Apply(new VerificationMetrics("n", "lfw", 200, 0.95, 0.95, 0), T0);

        var snap = state.Snapshot(T0);

        Assert.Equal(["agedb_30", "lfw"], snap.Series.Accuracy.Keys);
        Assert.Equal([0.90, 0.95], snap.Series.Accuracy["lfw"].Select(p => p.Value));
        Assert.Equal(0.95, snap.Verification["lfw"].Accuracy);
    }

    [Fact]
    public void SnapshotJsonRoundTripsIncludingUnknownEta()
    {
        var state = new MonitorState();
        state.Apply(SampleMetrics.Worker(0, 10), T0);
        state.Apply(SampleMetrics.Coordinator(2), T0);
        state.Apply(new LoaderMetrics("n", 0, 3, 4, 900, 2, 0), T0);
        state.Apply(new ShardMetrics("n", 0, 0, 5000, 1000, 10_240_000, 0), T0);
        state.Apply(SampleMetrics.Recovery(2), T0);

        var json = MonitorSnapshotJson.Serialize(state.Snapshot(T0));
        var back = MonitorSnapshotJson.Deserialize(json);

        Assert.Contains("\"etaSeconds\":\"NaN\"", json);
        Assert.Contains("\"state\":\"Training\"", json);
        Assert.True(double.IsNaN(back.Coordinator!.EtaSeconds));
        Assert.Equal(10, back.Workers[0].Latest.GlobalStep);
        Assert.Equal(20, back.Workers[0].Latest.StepTime.BackwardMs);
        Assert.Equal(3, back.Loaders[0].Latest.QueueDepth);
        Assert.Equal(5000, back.Shards[0].Latest.NumLocal);
        Assert.Equal(ClusterEventKind.Recovered, back.RecentEvents[0].Kind);
        Assert.Equal(json, MonitorSnapshotJson.Serialize(back));
    }
}
