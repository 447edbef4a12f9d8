using ActorFace.Actors.Monitoring;
using Akka.Actor;

namespace ActorFace.Actors.Tests.Monitoring;

public class SystemStatsCollectorTests : Akka.TestKit.Xunit2.TestKit
{
    private sealed class Failing : ReceiveActor
    {
        public Failing() => Receive<string>(_ => throw new InvalidOperationException("boom"));
    }

    private sealed class Blocking : ReceiveActor
    {
        public Blocking(ManualResetEventSlim started, ManualResetEventSlim release) =>
            Receive<int>(_ =>
            {
                started.Set();
                release.Wait(TimeSpan.FromSeconds(10));
            });
    }

    public SystemStatsCollectorTests() : base(MonitoringConfig.Default) { }

    [Fact]
    public void CountsDeadLettersAndSupervisedFailuresPerActor()
    {
        var collector = Sys.ActorOf(SystemStatsCollector.Props("node-a", TimeSpan.FromMinutes(1)));
        // Its event-stream subscriptions are made in PreStart: wait until it has run, or the dead letter below may pass unseen.
        collector.Ask<ActorSystemStats>(GetSystemStats.Instance, TimeSpan.FromSeconds(30)).Wait();
        var failing = Sys.ActorOf(Props.Create(() => new Failing()), "failing");
        var gone = Sys.ActorOf(Props.Create(() => new Failing()), "gone");
        Watch(gone);
        Sys.Stop(gone);
        ExpectTerminated(gone);

        failing.Tell("fail once");
        failing.Tell("fail twice");
        gone.Tell("nobody home");

        AwaitAssert(() =>
        {
            var stats = collector.Ask<ActorSystemStats>(GetSystemStats.Instance, RemainingOrDefault).Result;
            Assert.Equal("node-a", stats.Node);
            Assert.True(stats.DeadLetters >= 1, $"dead letters {stats.DeadLetters}");
            var failures = Assert.Single(stats.Failures, f => f.Actor.EndsWith("/user/failing"));
            Assert.Equal(2, failures.Count);
        }, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void SamplesMailboxDepthOfWatchedActors()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var collector = Sys.ActorOf(SystemStatsCollector.Props("node-a", TimeSpan.FromMinutes(1)));
        var busy = Sys.ActorOf(Props.Create(() => new Blocking(started, release)), "busy");
        collector.Tell(new WatchMailbox(busy));

        busy.Tell(0);
        Assert.True(started.Wait(TimeSpan.FromSeconds(5)));
        for (var i = 1; i <= 5; i++) busy.Tell(i);

        var stats = collector.Ask<ActorSystemStats>(GetSystemStats.Instance, TimeSpan.FromSeconds(5)).Result;
        release.Set();

        var depth = Assert.Single(stats.MailboxDepths);
        Assert.EndsWith("/user/busy", depth.Actor);
        Assert.Equal(5, depth.Count);
    }

    [Fact]
    public void PublishesStatsPeriodically()
    {
        Sys.EventStream.Subscribe(TestActor, typeof(ActorSystemStats));
        Sys.ActorOf(SystemStatsCollector.Props("node-b", TimeSpan.FromMilliseconds(100)));

        var stats = ExpectMsg<ActorSystemStats>(TimeSpan.FromSeconds(5));
        Assert.Equal("node-b", stats.Node);
    }
}
