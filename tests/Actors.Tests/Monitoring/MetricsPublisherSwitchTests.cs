using ActorFace.Actors.Monitoring;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;

namespace ActorFace.Actors.Tests.Monitoring;

/// <summary>`actorface.monitoring.enabled = off`: nothing is published (the baseline of the overhead measurement).</summary>
public class MetricsPublisherSwitchTests() : TestKit(ConfigurationFactory.ParseString("actorface.monitoring.enabled = off")
    .WithFallback(MonitoringConfig.Default))
{
    [Fact]
    public void OffPublishesNothingWhileOnIsTheDefault()
    {
        Assert.False(MetricsPublisher.IsEnabled(Sys));
        Sys.EventStream.Subscribe(TestActor, typeof(IMonitorMetric));
        MetricsPublisher.Publish(Sys, SampleMetrics.Worker(0, 1));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        using var on = ActorSystem.Create("on", MonitoringConfig.Default);
        Assert.True(MetricsPublisher.IsEnabled(on));
        var probe = CreateTestProbe(on);
        on.EventStream.Subscribe(probe.Ref, typeof(IMonitorMetric));
        MetricsPublisher.Publish(on, SampleMetrics.Worker(0, 1));
        Assert.Equal(1, probe.ExpectMsg<WorkerMetrics>().GlobalStep);
    }
}
