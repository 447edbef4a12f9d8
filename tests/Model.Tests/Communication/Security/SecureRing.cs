using System.Net;
using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Tests.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Security;

/// <summary>Forms TCP rings whose ranks may use different security options, and checks an all-reduce.</summary>
static class SecureRing
{
    public static TcpCollectiveOptions Options(Func<TcpCollectiveOptions, TcpCollectiveOptions>? secure = null, double connectSeconds = 20) =>
        (secure ?? (o => o))(new TcpCollectiveOptions
        {
            Timeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(connectSeconds),
            ChunkBytes = 1024,
            SessionToken = "gen-1",
        });

    /// <summary>Connects every rank with its own options; each result is the communicator or the exception.</summary>
    public static (TcpCollective? Comm, Exception? Error)[] Connect(IReadOnlyList<IPEndPoint> endpoints, Func<int, TcpCollectiveOptions> options)
    {
        var tasks = Enumerable.Range(0, endpoints.Count).Select(r => Task.Factory.StartNew(() =>
        {
            try { return ((TcpCollective?)TcpCollective.Connect(r, endpoints, options(r)), (Exception?)null); }
            catch (Exception e) { return (null, e); }
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        return tasks.Select(t => t.Result).ToArray();
    }

    /// <summary>Every rank all-reduces [rank+1, 2(rank+1), ...] (1 000 floats: several frames) and checks the sum.</summary>
    public static void AssertAllReduceWorks(IReadOnlyList<ICollective> world)
    {
        var sums = CollectiveWorlds.Run(world.ToArray(), c =>
        {
            using var t = arange(1, 1001, dtype: ScalarType.Float32) * (c.Rank + 1);
            c.AllReduce(t);
            return t.data<float>().ToArray();
        });
        var factor = world.Count * (world.Count + 1) / 2;
        foreach (var s in sums)
            for (var i = 0; i < s.Length; i++) Assert.Equal((i + 1) * factor, s[i]);
    }
}
