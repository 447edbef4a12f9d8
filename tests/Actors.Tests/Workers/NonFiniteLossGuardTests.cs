using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Tests.Workers;

public class NonFiniteLossGuardTests
{
    [Fact]
    public void SkipsUntilTheLimitInARowThenRollsBack()
    {
        var guard = new NonFiniteLossGuard(3);
        Assert.Equal(NonFiniteVerdict.Trained, guard.Observe(1.5));
        Assert.Equal(NonFiniteVerdict.Skipped, guard.Observe(double.NaN));
        Assert.Equal(NonFiniteVerdict.Skipped, guard.Observe(double.PositiveInfinity));
        Assert.Equal(NonFiniteVerdict.RollBack, guard.Observe(double.NegativeInfinity));
        Assert.Equal(3, guard.Consecutive);
        Assert.Equal(3, guard.Skipped);
    }

    [Fact]
    public void AFiniteStepResetsTheRunButNotTheTotal()
    {
        var guard = new NonFiniteLossGuard(2);
        Assert.Equal(NonFiniteVerdict.Skipped, guard.Observe(double.NaN));
        Assert.Equal(NonFiniteVerdict.Trained, guard.Observe(0.7));
        Assert.Equal(NonFiniteVerdict.Skipped, guard.Observe(double.NaN));
        Assert.Equal(1, guard.Consecutive);
        Assert.Equal(2, guard.Skipped);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NonFiniteLossGuard(0));
    }
}
