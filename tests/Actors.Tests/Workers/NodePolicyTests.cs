using System.Diagnostics;
using ActorFace.Actors.Workers;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Tests.Workers;

/// <summary>The worker node's watchdog and failure policy, without a cluster.</summary>
public class NodePolicyTests
{
    private static long After(TimeSpan t) => Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public void TheWatchdogLooksAQuarterOfTheTimeoutWithinBounds()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), new NodePolicy(TimeSpan.FromMinutes(5)).WatchdogInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), new NodePolicy(TimeSpan.FromSeconds(2)).WatchdogInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), new NodePolicy(TimeSpan.FromMilliseconds(100)).WatchdogInterval);
        Assert.Null(new NodePolicy(TimeSpan.Zero).WatchdogInterval);
    }

    [Fact]
    public void ABusyRankWithoutProgressIsReportedHungOnce()
    {
        var policy = new NodePolicy(TimeSpan.FromSeconds(30));
        policy.Start(2);
        var (idle, busy) = (new RankWatch(), new RankWatch());
        busy.Progress(17);
        var ranks = new[] { (0, idle), (1, busy) };
        Assert.Null(policy.CheckProgress(ranks, After(TimeSpan.FromSeconds(10))));
        var hung = policy.CheckProgress(ranks, After(TimeSpan.FromSeconds(31)));
        Assert.NotNull(hung);
        Assert.Equal(1, hung.Value.Rank);
        Assert.Contains("after step 17 (cluster.step_timeout = 30 s): hung", hung.Value.Reason);
        Assert.True(policy.Aborting);
        Assert.Null(policy.CheckProgress(ranks, After(TimeSpan.FromSeconds(60)))); // reported once
    }

    [Fact]
    public void AnIdleRankIsNeverHung()
    {
        var policy = new NodePolicy(TimeSpan.FromSeconds(1));
        policy.Start(1);
        var watch = new RankWatch();
        watch.Progress(3);
        watch.Idle();
        Assert.Null(policy.CheckProgress([(0, watch)], After(TimeSpan.FromHours(1))));
    }

    [Fact]
    public void ANewGenerationClearsTheAbortAndAnEndedJobStartsNone()
    {
        var policy = new NodePolicy(TimeSpan.FromSeconds(1));
        Assert.True(policy.Start(1));
        Assert.False(policy.Abort(2)); // not the current generation
        Assert.True(policy.Abort(1));
        Assert.True(policy.Aborting);
        Assert.True(policy.Start(2));
        Assert.False(policy.Aborting);
        policy.End();
        Assert.False(policy.Start(3));
        Assert.Equal(2, policy.Generation);
        var watch = new RankWatch();
        watch.Progress(1);
        Assert.Null(policy.CheckProgress([(0, watch)], After(TimeSpan.FromHours(1)))); // no watchdog after the end
    }

    [Fact]
    public void FailuresOfTheCurrentGenerationAreReportedWithTheirReason()
    {
        var policy = new NodePolicy(TimeSpan.Zero);
        policy.Start(4);
        var crash = policy.RankFailed(new RankFailureException(1, 4, new InvalidOperationException("boom")));
        Assert.Equal(new RankFailureReport(4, 1, "InvalidOperationException: boom", WithStackTrace: true), crash);
        var nan = policy.RankFailed(new RankFailureException(0, 4, new NonFiniteLossException("loss was NaN")));
        Assert.Equal(new RankFailureReport(4, 0, "loss was NaN", WithStackTrace: false), nan);
        var aborted = policy.RankFailed(new RankFailureException(0, 4, new CollectiveAbortedException("peer lost")));
        Assert.Equal("collective aborted: peer lost", aborted!.Reason); // explained: its message only
        Assert.True(aborted.WithStackTrace);
    }

    [Fact]
    public void FailuresOfAnOldOrAbortingGenerationAreNotReported()
    {
        var policy = new NodePolicy(TimeSpan.Zero);
        policy.Start(4);
        Assert.Null(policy.RankFailed(new RankFailureException(0, 3, new Exception("late"))));
        Assert.Null(policy.RankFailed(new InvalidOperationException("not a rank")));
        policy.Abort(4);
        Assert.Null(policy.RankFailed(new RankFailureException(0, 4, new Exception("during abort"))));
        policy.AbortReported();
        Assert.NotNull(policy.RankFailed(new RankFailureException(0, 4, new Exception("after the abort was confirmed"))));
    }
}
