using ActorFace.Model.Data;

namespace ActorFace.Model.Tests.Data;

public class DistributedSamplerTests
{
    static int[][] AllRanks(int count, int world, long seed, int epoch, bool dropLast = false) =>
        Enumerable.Range(0, world).Select(r =>
        {
            var s = new DistributedSampler(count, world, r, seed, shuffle: true, dropLast);
            s.SetEpoch(epoch);
            return s.Indices();
        }).ToArray();

    [Fact]
    public void SameSeedEpochRankGivesSameOrderAndEpochsDiffer()
    {
        var a = AllRanks(1000, 4, 7, 3);
        var b = AllRanks(1000, 4, 7, 3);
        Assert.Equal(a, b);
        Assert.NotEqual(a[0], AllRanks(1000, 4, 7, 4)[0]);
        Assert.NotEqual(a[0], AllRanks(1000, 4, 8, 3)[0]);
    }

    [Fact]
    public void RanksAreDisjointAndCoverTheDatasetWithCyclicPadding()
    {
        var shares = AllRanks(1003, 4, 1, 0);
        Assert.All(shares, s => Assert.Equal(251, s.Length)); // ceil(1003 / 4)
        var all = shares.SelectMany(s => s).ToList();
        Assert.Equal(1004, all.Count);
        Assert.Equal(1003, all.Distinct().Count()); // one padded repeat, every sample present
        var dropped = AllRanks(1003, 4, 1, 0, dropLast: true);
        var flat = dropped.SelectMany(s => s).ToList();
        Assert.Equal(1000, flat.Count);
        Assert.Equal(1000, flat.Distinct().Count());
    }

    [Fact]
    public void RankTakesEveryWorldSizeThPositionOfTheGlobalOrder()
    {
        var global = DistributedSampler.GlobalOrder(50, 9, 2, shuffle: true);
        var shares = AllRanks(50, 5, 9, 2);
        for (int r = 0; r < 5; r++)
            Assert.Equal(Enumerable.Range(0, 10).Select(k => global[r + 5 * k]), shares[r]);
        Assert.Equal(Enumerable.Range(0, 50).ToArray(), global.Order().ToArray());
    }

    [Fact]
    public void ResumeAtStepGivesTheExactRemainder()
    {
        var s = new DistributedSampler(500, 2, 1, 5);
        s.SetEpoch(6);
        var full = s.Indices();
        var resumed = new DistributedSampler(500, 2, 1, 5);
        resumed.SetEpoch(6);
        Assert.Equal(full[(3 * 16)..(4 * 16)], resumed.BatchIndices(3, 16));
        Assert.Equal(full[(3 * 16)..], resumed.Indices(DistributedSampler.GlobalPosition(3, 16, 2)));
    }

    [Fact]
    public void WorldChangeMidEpochNeitherSkipsNorRepeats()
    {
        const int n = 960, b = 8;
        // 4 ranks run 5 steps, then the job continues on 3 ranks from the same global position
        var consumed = AllRanks(n, 4, 11, 1).SelectMany(s => s[..(5 * b)]).ToList();
        long pos = DistributedSampler.GlobalPosition(5, b, 4);
        var rest = Enumerable.Range(0, 3).SelectMany(r =>
        {
            var s = new DistributedSampler(n, 3, r, 11);
            s.SetEpoch(1);
            return s.Indices(pos);
        }).ToList();
        var everything = consumed.Concat(rest).ToList();
        Assert.Equal(n, everything.Count);
        Assert.Equal(n, everything.Distinct().Count());
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 0, 0, 0));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(1, 2, 0, 0, dropLast: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 1, 0, 0).BatchIndices(3, 4));
    }

    [Fact]
    public void RngIsTheReferenceSplitMix64()
    {
        // first outputs of the reference splitmix64.c from state 0: the order is reproducible in any language
        var r = new DeterministicRng(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, r.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, r.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, r.NextUInt64());
    }
}
