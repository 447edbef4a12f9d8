using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using ActorFace.Host.Infrastructure;
using ActorFace.Model.Collectives;

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
        var chunkKib = new Option<int>("--chunk-kib") { Description = "tcp frame size in KiB", DefaultValueFactory = _ => 512 };
        var rank = new Option<int>("--rank") { Hidden = true, DefaultValueFactory = _ => -1 };
        var endpoints = new Option<string>("--endpoints") { Hidden = true, DefaultValueFactory = _ => "" };
        foreach (var o in new Option[] { backend, worlds, mib, iterations, chunkKib, rank, endpoints }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var b = parse.GetValue(backend)!;
            var ws = parse.GetValue(worlds)!;
            int size = parse.GetValue(mib), iters = parse.GetValue(iterations), chunk = parse.GetValue(chunkKib);
            if (size < 1 || iters < 1 || chunk < 1 || ws.Length == 0 || ws.Any(w => w < 1 || w > 64))
                return Error("--mib, --iterations and --chunk-kib must be >= 1 and every --world in [1, 64]");
            long bytes = (long)size << 20;
            var options = new TcpCollectiveOptions { ChunkBytes = chunk * 1024, SessionToken = "bench" };
            int r = parse.GetValue(rank);
            if (r >= 0) return RunRank(r, parse.GetValue(endpoints)!, options, bytes, iters);
            return b switch
            {
                "tcp" => LoopbackBaseline(bytes) + ws.Select(w => RunTcpWorld(w, size, iters, chunk)).FirstOrDefault(code => code != 0),
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
    /// One plain socket stream over loopback moving the same bytes, for scale: on a busy or small machine the
    /// ring cannot beat what the kernel's loopback gives a single stream.
    /// </summary>
    static int LoopbackBaseline(long bytes)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var reader = Task.Run(() =>
        {
            using var s = listener.Accept();
            var buffer = new byte[1 << 20];
            long got = 0;
            while (got < bytes) { int n = s.Receive(buffer); if (n == 0) break; got += n; }
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var block = new byte[1 << 20];
        var watch = Stopwatch.StartNew();
        for (long sent = 0; sent < bytes; sent += block.Length) client.Send(block, (int)Math.Min(block.Length, bytes - sent), SocketFlags.None);
        reader.Wait();
        Console.WriteLine($"loopback baseline: one socket stream moves {bytes / 1048576} MiB at {bytes / watch.Elapsed.TotalSeconds / 1e9:0.00} GB/s");
        return 0;
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
        if (rank == 0) Console.WriteLine($"tcp {result}");
        return 0;
    }

    static int RunTcpWorld(int world, int mib, int iterations, int chunkKib)
    {
        var endpointList = SelfProcess.LoopbackEndpoints(world);
        var children = Enumerable.Range(0, world).Select(r => SelfProcess.Start(new[] { "bench", "allreduce", "--rank", r.ToString(),
            "--endpoints", endpointList, "--mib", mib.ToString(), "--iterations", iterations.ToString(), "--chunk-kib", chunkKib.ToString() })).ToList();
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
