using System.Diagnostics;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>The tcp backend across real OS processes, and the ring's behaviour when a member dies or is stale.</summary>
public class TcpProcessTests
{
    /// <summary>One world of three processes serves two checks (process start-up dominates the cost): every
    /// operation gives the right values across processes, then killing rank 1 mid-AllReduce fails ranks 0 and 2.</summary>
    [Fact]
    public void ThreeProcessesAgreeOnEveryOperationAndFailFastWhenOneIsKilled()
    {
        var endpoints = FreePorts.Loopback(3);
        var peers = Enumerable.Range(0, 3).Select(r => PeerProcess.Start("check+loop", r, endpoints, "gen-1")).ToList();
        try
        {
            foreach (var (peer, r) in peers.Select((p, r) => (p, r)))
            {
                Assert.True(peer.WaitReady(TimeSpan.FromSeconds(60)), $"rank {r} never reached its all-reduce loop:\n{peer.Output}");
                Assert.Contains($"OK rank {r}", peer.Output);
            }
            var watch = Stopwatch.StartNew();
            peers[1].Process.Kill(entireProcessTree: true);
            foreach (var r in new[] { 0, 2 })
            {
                int code = peers[r].WaitExit(TimeSpan.FromSeconds(30));
                Assert.True(code == 3, $"rank {r} exited with {code}:\n{peers[r].Output}");
                Assert.Contains("ABORTED", peers[r].Output);
            }
            // The operation timeout is 60 s: failing well inside 10 s shows the dead peer was detected, not timed out.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"survivors took {watch.Elapsed} to fail");
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public async Task PeerOfAnotherGenerationIsRejectedAndTheRingStillForms()
    {
        var endpoints = FreePorts.Loopback(2);
        var stranger = FreePorts.Loopback(1)[0];
        var current = new TcpCollectiveOptions { SessionToken = "gen-2", ConnectTimeout = TimeSpan.FromSeconds(20) };
        var rank0 = Task.Factory.StartNew(() => TcpCollective.Connect(0, endpoints, current), TaskCreationOptions.LongRunning);
        // A straggler of generation 1 that believes it is rank 1 dials rank 0 of generation 2 and is turned away.
        var stale = Assert.Throws<TimeoutException>(() => TcpCollective.Connect(1, new[] { endpoints[0], stranger },
            new TcpCollectiveOptions { SessionToken = "gen-1", ConnectTimeout = TimeSpan.FromSeconds(1.5) }));
        Assert.Contains("session token 'gen-1' does not match 'gen-2'", stale.Message);
        using var rank1 = TcpCollective.Connect(1, endpoints, current);
        using var c0 = await rank0.WaitAsync(TimeSpan.FromSeconds(20));
        var world = new ICollective[] { c0, rank1 };
        var sums = CollectiveWorlds.Run(world, c => { var t = torch.ones(5); c.AllReduce(t); return t; });
        Assert.All(sums, t => Assert.Equal(2f, t[0].item<float>()));
    }

    [Fact]
    public void DisposedNeighbourAbortsAPendingCall()
    {
        var world = CollectiveWorlds.Tcp(3);
        try
        {
            var pending = Enumerable.Range(0, 2)
                .Select(r => Task.Factory.StartNew(() => world[r].AllReduce(torch.ones(1000)), TaskCreationOptions.LongRunning)).ToArray();
            Thread.Sleep(200);
            world[2].Dispose();
            foreach (var task in pending)
            {
                var error = Assert.Throws<AggregateException>(() => task.Wait(TimeSpan.FromSeconds(10)));
                Assert.IsType<CollectiveAbortedException>(error.InnerException);
            }
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }
}
