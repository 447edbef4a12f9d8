using System.Net.Sockets;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>
/// What every backend must do, checked against results computed directly from all ranks' inputs.
/// Values are small integers so that every dtype (bfloat16 included) represents inputs and sums exactly.
/// </summary>
public abstract class CollectiveContractTests
{
    protected abstract ICollective[] CreateWorld(int worldSize, TimeSpan? timeout = null);

    public static TheoryData<int, ScalarType> WorldsAndTypes()
    {
        var data = new TheoryData<int, ScalarType>();
        foreach (var w in new[] { 1, 2, 3, 4 })
            foreach (var t in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16, ScalarType.Int64 })
                data.Add(w, t);
        return data;
    }

    static Tensor Values(long rows, long cols, int rank, ScalarType type, int salt) =>
        (torch.arange(rows * cols, ScalarType.Int64).reshape(rows, cols) * (rank + 1) % 17 + salt * rank).to(type);

    [Theory]
    [MemberData(nameof(WorldsAndTypes))]
    public void AllOperationsMatchDirectComputation(int worldSize, ScalarType type)
    {
        var world = CreateWorld(worldSize);
        try
        {
            // Uneven dim-0 sizes (rank r has r+1 rows) and then equal ones.
            var unequal = Enumerable.Range(0, worldSize).Select(r => Values(r + 1, 3, r, type, 5)).ToArray();
            var equal = Enumerable.Range(0, worldSize).Select(r => Values(2, 4, r, type, 1)).ToArray();
            // 7x5 = 35 elements: ring segments of unequal length for W = 2, 3, 4.
            var sums = Enumerable.Range(0, worldSize).Select(r => Values(7, 5, r, type, 2)).ToArray();
            var maxes = Enumerable.Range(0, worldSize).Select(r => Values(7, 5, r, type, 3) - 4 * r).ToArray();
            var scatter = Enumerable.Range(0, worldSize).Select(r => Values(3 * worldSize, 2, r, type, 1)).ToArray();
            var bcast = Enumerable.Range(0, worldSize).Select(r => Values(5, 3, r, type, 7)).ToArray();
            int root = worldSize - 1;

            var expectedSum = torch.stack(sums).to(ScalarType.Float64).sum(dim: 0).to(type);
            var expectedMax = torch.stack(maxes).to(ScalarType.Float64).amax(new long[] { 0 }).to(type);
            var expectedScatter = torch.stack(scatter).to(ScalarType.Float64).sum(dim: 0).to(type);
            var expectedBcast = bcast[root].clone();

            var results = CollectiveWorlds.Run(world, c =>
            {
                int r = c.Rank;
                var gatheredUnequal = c.AllGather(unequal[r]);
                var gatheredEqual = c.AllGather(equal[r]);
                var sum = sums[r].clone();
                c.AllReduce(sum, ReduceOp.Sum);
                var max = maxes[r].clone();
                c.AllReduce(max, ReduceOp.Max);
                var scattered = c.ReduceScatter(scatter[r], ReduceOp.Sum);
                var b = bcast[r].clone();
                c.Broadcast(b, root);
                c.Barrier();
                return (gatheredUnequal, gatheredEqual, sum, max, scattered, b);
            });

            for (int r = 0; r < worldSize; r++)
            {
                var (gu, ge, sum, max, scattered, b) = results[r];
                AssertSame(torch.cat(unequal, 0), gu, $"AllGather unequal, rank {r}");
                AssertSame(torch.cat(equal, 0), ge, $"AllGather equal, rank {r}");
                AssertSame(expectedSum, sum, $"AllReduce sum, rank {r}");
                AssertSame(expectedMax, max, $"AllReduce max, rank {r}");
                AssertSame(expectedScatter.narrow(0, 3 * r, 3), scattered, $"ReduceScatter, rank {r}");
                AssertSame(expectedBcast, b, $"Broadcast, rank {r}");
            }
            // Inputs of the out-of-place operations are left alone.
            for (int r = 0; r < worldSize; r++)
                AssertSame(Values(3 * worldSize, 2, r, type, 1), scatter[r], $"ReduceScatter input, rank {r}");
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    internal static bool Same(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static void AssertSame(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
        Assert.True(Same(expected, actual), $"{what}: values differ\n{actual.to(ScalarType.Float64).str()}\nexpected\n{expected.to(ScalarType.Float64).str()}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void LargeFloatAllReduceAgreesWithSumOnEveryRank(int worldSize)
    {
        var world = CreateWorld(worldSize);
        try
        {
            var gen = torch.manual_seed(7);
            var inputs = Enumerable.Range(0, worldSize).Select(_ => torch.randn(100_003)).ToArray();
            var expected = torch.stack(inputs).sum(dim: 0);
            var results = CollectiveWorlds.Run(world, c =>
            {
                var t = inputs[c.Rank].clone();
                c.AllReduce(t);
                return t;
            });
            foreach (var t in results)
                Assert.True(torch.allclose(t, expected, rtol: 1e-5, atol: 1e-5), "sum differs");
            // Every rank holds bit-identical results: each element is reduced once, by one rank.
            for (int r = 1; r < worldSize; r++) Assert.True(Same(results[0], results[r]), $"rank {r} differs from rank 0");
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void NonContiguousTensorsAreReducedInPlace()
    {
        var world = CreateWorld(2);
        try
        {
            var bases = new[] { torch.arange(12f).reshape(3, 4), torch.arange(12f).reshape(3, 4) * 10 };
            var results = CollectiveWorlds.Run(world, c =>
            {
                var t = bases[c.Rank].clone().t(); // 4x3 transposed view
                c.AllReduce(t);
                var gathered = c.AllGather(bases[c.Rank].t());
                return (t, gathered);
            });
            foreach (var (t, gathered) in results)
            {
                Assert.True(Same((bases[0] + bases[1]).t(), t));
                Assert.True(Same(torch.cat(new[] { bases[0].t(), bases[1].t() }, 0), gathered));
            }
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void AbortFailsThePendingCallAndEveryLaterOne()
    {
        var world = CreateWorld(2);
        try
        {
            var pending = Task.Factory.StartNew(() => world[0].AllReduce(torch.ones(10)), TaskCreationOptions.LongRunning);
            Thread.Sleep(200); // rank 0 is now waiting for rank 1, which never calls
            var watch = System.Diagnostics.Stopwatch.StartNew();
            world[0].Abort("test abort");
            var error = Assert.Throws<AggregateException>(() => pending.Wait(TimeSpan.FromSeconds(10)));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"abort took {watch.Elapsed}");
            var aborted = Assert.IsType<CollectiveAbortedException>(error.InnerException);
            Assert.Contains("test abort", aborted.Message);
            Assert.True(world[0].IsAborted);
            Assert.Throws<CollectiveAbortedException>(() => world[0].Barrier());
            Assert.Throws<CollectiveAbortedException>(() => world[0].AllGather(torch.ones(1)));
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void TimeoutAbortsWithAClearReason()
    {
        var world = CreateWorld(2, TimeSpan.FromMilliseconds(300));
        try
        {
            var error = Assert.Throws<CollectiveAbortedException>(() => world[0].Broadcast(torch.ones(3), root: 1));
            Assert.Contains("timeout", error.Message);
            Assert.Throws<CollectiveAbortedException>(() => world[0].Barrier());
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void MismatchedOperationsFailOnEveryRankInsteadOfHanging()
    {
        var world = CreateWorld(2);
        try
        {
            var outcomes = CollectiveWorlds.Run(world, c =>
            {
                try
                {
                    if (c.Rank == 0) c.AllReduce(torch.ones(64));
                    else c.Broadcast(torch.ones(64), 0);
                    return null;
                }
                catch (CollectiveAbortedException e) { return e; }
            });
            Assert.All(outcomes, Assert.NotNull);
            Assert.Contains(outcomes, e => e!.Message.Contains("AllReduce") && e.Message.Contains("Broadcast"));
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void BadArgumentsAreRejectedAndAbortThePeers()
    {
        var world = CreateWorld(2);
        try
        {
            var outcomes = CollectiveWorlds.Run(world, c =>
            {
                try { c.ReduceScatter(torch.ones(3, 2)); return null; }
                catch (Exception e) { return e; }
            });
            Assert.All(outcomes, e => Assert.True(e is ArgumentException or CollectiveAbortedException, e?.ToString()));
            Assert.Contains(outcomes, e => e is ArgumentException a && a.Message.Contains("divisible by world size 2"));
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }
}

public sealed class LocalCollectiveTests : CollectiveContractTests
{
    protected override ICollective[] CreateWorld(int worldSize, TimeSpan? timeout = null) => CollectiveWorlds.Local(worldSize, timeout);
}

public sealed class TcpCollectiveTests : CollectiveContractTests
{
    protected override ICollective[] CreateWorld(int worldSize, TimeSpan? timeout = null) => CollectiveWorlds.Tcp(worldSize, timeout);

    [Fact]
    public void LoopbackRanksTalkOverUnixSocketsUnlessTurnedOff()
    {
        foreach (var (unix, family) in new[] { (true, AddressFamily.Unix), (false, AddressFamily.InterNetwork) })
        {
            var world = CollectiveWorlds.Tcp(3, unixSockets: unix);
            try
            {
                Assert.All(world, c => Assert.Equal((family, family), ((TcpCollective)c).Transports));
                var sums = CollectiveWorlds.Run(world, c => { var t = torch.full(4097, c.Rank + 1f); c.AllReduce(t); return t; });
                Assert.All(sums, t => Assert.Equal(6f * 4097, t.sum().item<float>()));
            }
            finally
            {
                CollectiveWorlds.DisposeAll(world);
            }
        }
    }
}

/// <summary>The same contract with the Unix-socket shortcut off: what ranks on different hosts use.</summary>
public sealed class TcpSocketCollectiveTests : CollectiveContractTests
{
    protected override ICollective[] CreateWorld(int worldSize, TimeSpan? timeout = null) =>
        CollectiveWorlds.Tcp(worldSize, timeout, unixSockets: false);
}
