using System.Net;
using ActorFace.Tests;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.CollectivePeer;

/// <summary>
/// usage: ActorFace.CollectivePeer (check|loop|check+loop|pfc|bench) RANK HOST:PORT,HOST:PORT,... [TOKEN] [DIR | MIB ITERATIONS]
///   check  run every operation on values all ranks can recompute, verify, print "OK", exit 0 (1 on a wrong value)
///   loop   all-reduce forever; print "READY" after the first; exit 3 with "ABORTED: reason" when the world breaks
///   check+loop  check, then loop (one process start serves both tests of a world)
///   pfc    one Partial FC step of PartialFCProblem; print "LOSS x", write grads to DIR (extra argument)
///   bench  time float32 all-reduce of MIB MiB, ITERATIONS times; rank 0 prints the result
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: ActorFace.CollectivePeer (check|loop|check+loop|pfc|bench) RANK ENDPOINTS [TOKEN] [DIR | MIB ITERATIONS]");
            return 2;
        }
        ActorFace.Model.Runtime.MallocTuning.Apply();
        int rank = int.Parse(args[1]);
        var endpoints = args[2].Split(',').Select(IPEndPoint.Parse).ToList();
        var options = new TcpCollectiveOptions { SessionToken = args.Length > 3 ? args[3] : "", ConnectTimeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var c = TcpCollective.Connect(rank, endpoints, options);
            return args[0] switch
            {
                "check" => Check(c),
                "loop" => Loop(c),
                "check+loop" => Check(c) == 0 ? Loop(c) : 1,
                "pfc" => PartialFC(c, args[4]),
                "bench" => Bench(c, long.Parse(args[4]) << 20, int.Parse(args[5])),
                _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
            };
        }
        catch (CollectiveAbortedException e)
        {
            Console.WriteLine($"ABORTED: {e.Message}");
            return 3;
        }
    }

    static Tensor Values(int rank, long rows, long cols) =>
        (torch.arange(rows * cols, ScalarType.Int64).reshape(rows, cols) * (rank + 1) % 13 + rank).to(ScalarType.Float32);

    static int Check(ICollective c)
    {
        int w = c.WorldSize, r = c.Rank;
        var all = Enumerable.Range(0, w);
        var failures = new List<string>();
        void Expect(string what, Tensor expected, Tensor actual)
        {
            if (!expected.shape.SequenceEqual(actual.shape) || !expected.eq(actual).all().item<bool>())
                failures.Add(what);
        }

        Expect("AllGather", torch.cat(all.Select(k => Values(k, k + 1, 3)).ToArray(), 0), c.AllGather(Values(r, r + 1, 3)));
        var sum = Values(r, 33, 31);
        c.AllReduce(sum);
        Expect("AllReduce sum", torch.stack(all.Select(k => Values(k, 33, 31)).ToArray()).sum(dim: 0), sum);
        var max = Values(r, 9, 5);
        c.AllReduce(max, ReduceOp.Max);
        Expect("AllReduce max", torch.stack(all.Select(k => Values(k, 9, 5)).ToArray()).amax(new long[] { 0 }), max);
        var labels = torch.arange(4, ScalarType.Int64) + 10 * r;
        Expect("AllGather int64", torch.cat(all.Select(k => torch.arange(4, ScalarType.Int64) + 10 * k).ToArray(), 0), c.AllGather(labels));
        var scattered = c.ReduceScatter(Values(r, 2 * w, 4));
        Expect("ReduceScatter", torch.stack(all.Select(k => Values(k, 2 * w, 4)).ToArray()).sum(dim: 0).narrow(0, 2 * r, 2), scattered);
        var b = Values(r, 4, 4);
        c.Broadcast(b, w - 1);
        Expect("Broadcast", Values(w - 1, 4, 4), b);
        c.Barrier();
        if (failures.Count > 0)
        {
            Console.WriteLine($"FAIL rank {r}: {string.Join(", ", failures)}");
            return 1;
        }
        Console.WriteLine($"OK rank {r}");
        return 0;
    }

    static int Loop(ICollective c)
    {
        using var t = torch.ones(256 * 1024);
        c.AllReduce(t);
        Console.WriteLine("READY");
        while (true) c.AllReduce(t);
    }

    static int PartialFC(ICollective c, string directory)
    {
        var r = PartialFCProblem.Run(c);
        PartialFCProblem.WriteFloats(Path.Combine(directory, $"grad-{c.Rank}.bin"), r.EmbeddingGrad);
        PartialFCProblem.WriteFloats(Path.Combine(directory, $"wgrad-{c.Rank}.bin"), r.WeightGrad);
        Console.WriteLine(FormattableString.Invariant($"LOSS {r.Loss:R}"));
        return 0;
    }

    static int Bench(ICollective c, long bytes, int iterations)
    {
        var result = CollectiveBenchmark.AllReduce(c, bytes, iterations);
        if (c.Rank == 0) Console.WriteLine(result);
        return 0;
    }
}
