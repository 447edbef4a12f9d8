using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using ActorFace.Host.Infrastructure;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench allreduce`: all-reduce bandwidth of a backend. For tcp it starts one child process per rank
/// (this same executable with the hidden --rank/--endpoints options) talking over loopback.
/// </summary>
public static class BenchAllReduceCommand
{
    public static Command Create()
    {
        var command = new Command("allreduce", "Measure float32 all-reduce bandwidth: tcp ring between processes over loopback, or local thread ranks");
        var backend = new Option<string>("--backend") { Description = "tcp or local", DefaultValueFactory = _ => "tcp" };
        var worlds = new Option<int[]>("--world") { Description = "world sizes to measure", DefaultValueFactory = _ => new[] { 2, 3 }, AllowMultipleArgumentsPerToken = true };
        var mib = new Option<int>("--mib") { Description = "tensor size in MiB", DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { Description = "timed all-reduces per world", DefaultValueFactory = _ => 10 };
        var chunkKib = new Option<int>("--chunk-kib") { Description = "tcp frame size in KiB", DefaultValueFactory = _ => 1024 };
        var transport = new Option<string>("--transport")
        {
            Description = "tcp backend between the rank processes: unix (Unix domain sockets, the default on loopback) or tcp",
            DefaultValueFactory = _ => "unix",
        };
        var rank = new Option<int>("--rank") { Hidden = true, DefaultValueFactory = _ => -1 };
        var endpoints = new Option<string>("--endpoints") { Hidden = true, DefaultValueFactory = _ => "" };
        foreach (var o in new Option[] { backend, worlds, mib, iterations, chunkKib, transport, rank, endpoints }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var b = parse.GetValue(backend)!;
            var ws = parse.GetValue(worlds)!;
            int size = parse.GetValue(mib), iters = parse.GetValue(iterations), chunk = parse.GetValue(chunkKib);
            if (size < 1 || iters < 1 || chunk < 1 || ws.Length == 0 || ws.Any(w => w < 1 || w > 64))
                return Error("--mib, --iterations and --chunk-kib must be >= 1 and every --world in [1, 64]");
            var via = parse.GetValue(transport)!;
            if (via is not ("unix" or "tcp")) return Error($"unknown --transport '{via}' (expected unix or tcp)");
            long bytes = (long)size << 20;
            var options = new TcpCollectiveOptions { ChunkBytes = chunk * 1024, SessionToken = "bench", UnixSocketsOnLoopback = via == "unix" };
            int r = parse.GetValue(rank);
            if (r >= 0) return RunRank(r, parse.GetValue(endpoints)!, options, bytes, iters);
            return b switch
            {
                "tcp" => LoopbackBaseline(bytes) + ws.Select(w => RunTcpWorld(w, size, iters, chunk, via)).FirstOrDefault(code => code != 0),
                "local" => ws.Select(w => RunLocalWorld(w, bytes, iters)).FirstOrDefault(code => code != 0),
                _ => Error($"unknown --backend '{b}' (expected tcp or local)"),
            };
        });
        return command;
    }

    static int Error(string message)
    {
        Console.Error.WriteLine($"bench allreduce: {message}");
        return 2;
    }

    /// <summary>
    /// Plain socket streams over loopback moving the same bytes, for scale: one stream, then one connection carrying
    /// the bytes both ways at once — what each rank of a 2-rank ring does (it sends to and receives from its
    /// neighbour simultaneously), so that figure per direction bounds a 2-rank all-reduce's algorithm bandwidth.
    /// </summary>
    static int LoopbackBaseline(long bytes)
    {
        Console.WriteLine($"loopback baseline: one socket stream moves {bytes / 1048576} MiB at {Stream(bytes, duplex: false) / 1e9:0.00} GB/s");
        Console.WriteLine($"loopback baseline: both directions at once, {bytes / 1048576} MiB each way at {Stream(bytes, duplex: true) / 1e9:0.00} GB/s per direction");
        return 0;
    }

    static double Stream(long bytes, bool duplex)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using var server = listener.Accept();
        var watch = Stopwatch.StartNew();
        var moves = new List<Task> { Task.Run(() => Send(client, bytes)), Task.Run(() => Receive(server, bytes)) };
        if (duplex) moves.AddRange([Task.Run(() => Send(server, bytes)), Task.Run(() => Receive(client, bytes))]);
        Task.WaitAll(moves);
        return bytes / watch.Elapsed.TotalSeconds;
    }

    static void Send(Socket s, long bytes)
    {
        var block = new byte[1 << 20];
        for (long sent = 0; sent < bytes; sent += block.Length) s.Send(block, (int)Math.Min(block.Length, bytes - sent), SocketFlags.None);
    }

    static void Receive(Socket s, long bytes)
    {
        var buffer = new byte[1 << 20];
        long got = 0;
        while (got < bytes) { int n = s.Receive(buffer); if (n == 0) break; got += n; }
    }

    static int RunLocalWorld(int world, long bytes, int iterations)
    {
        var ranks = LocalCollectiveGroup.Create(world);
        var tasks = ranks.Select(c => Task.Factory.StartNew(() => CollectiveBenchmark.AllReduce(c, bytes, iterations), TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
        Console.WriteLine($"local {tasks[0].Result}");
        foreach (var c in ranks) c.Dispose();
        return 0;
    }

    static int RunRank(int rank, string endpointList, TcpCollectiveOptions options, long bytes, int iterations)
    {
        var endpoints = endpointList.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(IPEndPoint.Parse).ToList();
        using var c = TcpCollective.Connect(rank, endpoints, options);
        var result = CollectiveBenchmark.AllReduce(c, bytes, iterations);
        if (rank == 0) Console.WriteLine($"tcp ({(options.UnixSocketsOnLoopback ? "unix sockets" : "tcp sockets")}) {result}");
        return 0;
    }

    static int RunTcpWorld(int world, int mib, int iterations, int chunkKib, string transport)
    {
        var endpointList = SelfProcess.LoopbackEndpoints(world);
        var children = Enumerable.Range(0, world).Select(r => SelfProcess.Start(new[] { "bench", "allreduce", "--rank", r.ToString(),
            "--endpoints", endpointList, "--mib", mib.ToString(), "--iterations", iterations.ToString(), "--chunk-kib", chunkKib.ToString(), "--transport", transport })).ToList();
        int failed = 0;
        foreach (var (child, r) in children.Select((c, r) => (c, r)))
        {
            child.WaitForExit();
            if (child.ExitCode != 0) { Console.Error.WriteLine($"bench allreduce: rank {r} exited with {child.ExitCode}"); failed = 1; }
            child.Dispose();
        }
        return failed;
    }
}
