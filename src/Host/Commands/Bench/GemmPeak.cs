using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>This machine's matrix-multiply throughput: the physical limit a backbone's FLOP rate is compared with.</summary>
public static class GemmPeak
{
    public static double GflopsPerSecond(ScalarType dtype, int n = 2048, int repeats = 4)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to_type(dtype);
        var b = randn(n, n).to_type(dtype);
        a.mm(b); // warm-up: thread pool and kernel selection
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            using var c = a.mm(b);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / times.Min() / 1e9;
    }
}
