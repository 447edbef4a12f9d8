using ActorFace.Actors.Data;

namespace ActorFace.Actors.Tests.Data;

public class CreditScheduleTests
{
    [Fact]
    public void NeverStartsMoreThanCreditsOrPrefetch()
    {
        var s = new CreditSchedule(prefetch: 3);
        s.Reset(0, 10);
        Assert.False(s.TryDispatch(out _)); // no credits yet
        s.Grant(2);
        Assert.True(s.TryDispatch(out var a));
        Assert.True(s.TryDispatch(out var b));
        Assert.False(s.TryDispatch(out _));
        Assert.Equal((0, 1), (a, b));
        s.Grant(10);
        Assert.True(s.TryDispatch(out _));
        Assert.False(s.TryDispatch(out _)); // capped by prefetch = 3
    }

    [Fact]
    public void DeliversInStepOrderAgainstCredits()
    {
        var s = new CreditSchedule(4);
        s.Reset(0, 3);
        s.Grant(3);
        while (s.TryDispatch(out _)) { }
        s.Completed(1);
        Assert.False(s.TryDeliver(out _)); // step 0 not ready yet
        Assert.True(s.ConsumerWaiting);
        s.Completed(0);
        Assert.True(s.TryDeliver(out var first));
        Assert.True(s.TryDeliver(out var second));
        Assert.Equal((0, 1), (first, second));
        s.Completed(2);
        Assert.True(s.TryDeliver(out _));
        Assert.True(s.EpochDone);
        Assert.Equal(0, s.Credits);
    }

    [Fact]
    public void ResetDropsInFlightButKeepsCredits()
    {
        var s = new CreditSchedule(2);
        s.Reset(0, 10);
        s.Grant(2);
        s.TryDispatch(out _);
        s.Reset(5, 10);
        Assert.Equal(0, s.Ahead);
        Assert.Equal(2, s.Credits);
        Assert.True(s.TryDispatch(out var step));
        Assert.Equal(5, step);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Reset(11, 10));
    }
}
