using ActorFace.Actors.Monitoring;
using Akka.Actor;

namespace ActorFace.Actors.Tests.Monitoring;

/// <summary>A single, non-clustered process: publishing falls back to the EventStream.</summary>
public class MonitorActorTests : Akka.TestKit.Xunit2.TestKit
{
    private sealed class RecordingSink : IMetricSink
    {
        public readonly List<IMonitorMetric> Seen = [];
        public void Observe(IMonitorMetric metric) { lock (Seen) Seen.Add(metric); }
    }

    public MonitorActorTests() : base(MonitoringConfig.Default) { }

    [Fact]
    public void LocalPublishReachesTheMonitorAndItsSinks()
    {
        var sink = new RecordingSink();
        var monitor = Sys.ActorOf(MonitorActor.Props(sinks: [sink]));
        Assert.False(MetricsPublisher.IsClustered(Sys));

        // The subscription is made in PreStart; an Ask round trip guarantees it is in place.
        monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5)).Wait();
        MetricsPublisher.Publish(Sys, SampleMetrics.Worker(0, 7));
        MetricsPublisher.Publish(Sys, (object)SampleMetrics.Worker(1, 7));
        MetricsPublisher.Publish(Sys, SampleMetrics.Recovery(1));

        AwaitAssert(() =>
        {
            var snap = monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5)).Result;
            Assert.Equal([0, 1], snap.Workers.Select(w => w.Latest.Rank));
            Assert.Equal(ClusterEventKind.Recovered, Assert.Single(snap.RecentEvents).Kind);
        }, TimeSpan.FromSeconds(5));
        lock (sink.Seen) Assert.Equal(3, sink.Seen.Count);
    }

    [Fact]
    public void PublishingSomethingElseIsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => MetricsPublisher.Publish(Sys, (object)"loss=3"));
        Assert.Contains("System.String is not an IMonitorMetric", ex.Message);
    }
}
