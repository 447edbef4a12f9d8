using ActorFace.Model.PartialFC;

namespace ActorFace.Model.Tests.PartialFC;

public class ShardLayoutTests
{
    [Fact]
    public void Ms1mv3OnEightRanks()
    {
        var all = ShardLayout.All(93_431, 8);
        Assert.Equal(new long[] { 11679, 11679, 11679, 11679, 11679, 11679, 11679, 11678 }, all.Select(l => l.NumLocal));
        Assert.Equal(new long[] { 0, 11679, 23358, 35037, 46716, 58395, 70074, 81753 }, all.Select(l => l.ClassStart));
    }

    [Fact]
    public void WebFace42MOnEightRanksAndSampleCounts()
    {
        var all = ShardLayout.All(2_059_906, 8);
        Assert.Equal(new long[] { 257489, 257489, 257488, 257488, 257488, 257488, 257488, 257488 }, all.Select(l => l.NumLocal));
        Assert.Equal(51497, all[0].NumSample(0.2)); // spec §3.9 worked example
        Assert.Equal(0, all[0].NumSample(0));
        Assert.Equal(3, new ShardLayout(5, 1, 0).NumSample(0.6));
        Assert.Equal(25, new ShardLayout(50, 1, 0).NumSample(0.5));
        Assert.Equal(2_059_906, all.Sum(l => l.NumLocal));
        Assert.Equal(all[^1].ClassEnd, 2_059_906);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLayout(10, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLayout(0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLayout(10, 1, 0).NumSample(1.5));
    }
}
