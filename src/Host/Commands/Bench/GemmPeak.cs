using System.Diagnostics;
using ActorFace.Model.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// This machine's matrix-multiply throughput: the physical limit a backbone's FLOP rate is compared with. The best of
/// <c>mm</c> (BLAS) and the same product as a 1×1 convolution (oneDNN, the path every backbone layer takes). For bf16
/// the native kernels are measured too; where the CPU lacks bf16 FMA (<see cref="CpuBf16"/>) they run at about
/// 1 GFLOP/s and <see cref="MixedPrecision"/> uses the float32 kernels instead, so float32's rate is the bf16 limit.
/// </summary>
public static class GemmPeak
{
    /// <param name="Native">best rate of the kernels of the dtype itself</param>
    /// <param name="Peak">best rate available to a backbone in that dtype</param>
    public sealed record Rates(double Native, double Peak);

    public static Rates Measure(ScalarType dtype, int n = 2048)
    {
        // A scalar fallback would take minutes at n = 2048: probe small first.
        var probe = Best(dtype, 256, 1);
        var native = probe < 5 ? probe : Best(dtype, n, 4);
        var peak = dtype == ScalarType.BFloat16 && !CpuBf16.IsNative ? Math.Max(native, Best(ScalarType.Float32, n, 4)) : native;
        return new Rates(native, peak);
    }

    static double Best(ScalarType dtype, int n, int repeats)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to_type(dtype);
        var b = randn(n, n).to_type(dtype);
        var image = a.reshape(1, n, n, 1);    // [1, K, M, 1]
        var kernel = b.reshape(n, n, 1, 1);   // [N, K, 1, 1]
        return Math.Max(Rate(() => a.mm(b), n, repeats), Rate(() => nn.functional.conv2d(image, kernel), n, repeats));
    }

    static double Rate(Func<Tensor> product, int n, int repeats)
    {
        product().Dispose(); // warm-up: thread pool and kernel selection
        var best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            product().Dispose();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * (double)n / best / 1e9;
    }
}
