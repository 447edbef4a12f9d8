using ActorFace.Model.Communication.Collectives;


namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>Builds worlds of communicators for tests and runs one body per rank on its own thread.</summary>
public static class CollectiveWorlds
{
    /// <summary>
    /// A tcp-backend world over loopback whose ranks live on threads of this process; small frames exercise
    /// pipelining. The links are Unix domain sockets unless <paramref name="unixSockets"/> is false.
    /// </summary>
    public static ICollective[] Tcp(int worldSize, TimeSpan? timeout = null, int chunkBytes = 1024, string token = "test", bool unixSockets = true)
    {
        var endpoints = FreePorts.Loopback(worldSize);
        var options = new TcpCollectiveOptions
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(20),
            ChunkBytes = chunkBytes,
            SessionToken = token,
            UnixSocketsOnLoopback = unixSockets,
        };
        var tasks = Enumerable.Range(0, worldSize)
            .Select(r => Task.Factory.StartNew(() => (ICollective)TcpCollective.Connect(r, endpoints, options), TaskCreationOptions.LongRunning))
            .ToArray();
        Task.WaitAll(tasks);
        return tasks.Select(t => t.Result).ToArray();
    }

    public static ICollective[] Local(int worldSize, TimeSpan? timeout = null) =>
        LocalCollectiveGroup.Create(worldSize, timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Runs body(rank) on one dedicated thread per rank and returns the results in rank order (failures as
    /// <see cref="ThreadCollective.Run{T}(IReadOnlyList{ICollective}, Func{ICollective, T})"/>).</summary>
    public static T[] Run<T>(ICollective[] world, Func<ICollective, T> body) => ThreadCollective.Run(world, body);

    public static void Run(ICollective[] world, Action<ICollective> body) => Run(world, c => { body(c); return 0; });

    public static void DisposeAll(ICollective[] world)
    {
        foreach (var c in world) c.Dispose();
    }
}
