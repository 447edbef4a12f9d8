using System.CommandLine;
using System.Diagnostics;
using ActorFace.Host.Infrastructure;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Vit;
using ActorFace.Model.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench backbone`: samples/s and peak memory of one backbone, training (forward + backward + SGD) or
/// inference, with the achieved FLOP rate as a fraction of this machine's GEMM peak. `--compare-malloc` runs the
/// same measurement in child processes with glibc's default malloc, glibc's keep-memory tuning and jemalloc (where the
/// system has it), one process each.
/// </summary>
public static class BenchBackboneCommand
{
    // MACs per 112x112 image, conv + linear only (spec §1.3).
    static readonly Dictionary<string, double> GigaMacs = new()
    {
        ["r18"] = 2.610, ["r34"] = 4.460, ["r50"] = 6.309, ["r100"] = 12.090, ["r200"] = 23.419,
        ["mbf"] = 0.4375, ["mbf_large"] = 1.816,
        ["vit_t"] = VitConfig.For("vit_t")!.GigaMacs(), ["vit_t_dp005_mask0"] = VitConfig.For("vit_t_dp005_mask0")!.GigaMacs(),
        ["vit_s"] = VitConfig.For("vit_s")!.GigaMacs(), ["vit_s_dp005_mask_0"] = VitConfig.For("vit_s_dp005_mask_0")!.GigaMacs(),
        ["vit_b"] = VitConfig.For("vit_b")!.GigaMacs(), ["vit_b_dp005_mask_005"] = VitConfig.For("vit_b_dp005_mask_005")!.GigaMacs(),
        ["vit_l_dp005_mask_005"] = VitConfig.For("vit_l_dp005_mask_005")!.GigaMacs(), ["vit_h"] = VitConfig.For("vit_h")!.GigaMacs(),
    };

    public static Command Create()
    {
        var command = new Command("backbone", "Backbone throughput (samples/s), peak memory and achieved FLOP rate vs this machine's GEMM peak");
        var network = new Option<string>("--network") { Description = "r18 r34 r50 r100 r200 mbf mbf_large vit_t vit_t_dp005_mask0 vit_s vit_s_dp005_mask_0 vit_b vit_b_dp005_mask_005 vit_l_dp005_mask_005 vit_h", DefaultValueFactory = _ => "r18" };
        var mode = new Option<string>("--mode") { Description = "train or infer", DefaultValueFactory = _ => "train" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32 };
        var dtype = new Option<string>("--dtype") { Description = "fp32 or bf16 (mixed precision: bf16 trunk, fp32 head)", DefaultValueFactory = _ => "fp32" };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (0 = libtorch default)", DefaultValueFactory = _ => 0 };
        var compareMalloc = new Option<bool>("--compare-malloc") { Description = "run with glibc's default malloc, glibc's keep-memory tuning and jemalloc (if installed), each in its own process" };
        var json = new Option<bool>("--json") { Description = "one JSON object per line" };
        var traceMemory = new Option<bool>("--trace-memory") { Description = "print RSS and glibc's heap (size, in use) after each phase of every step, on stderr (glibc's numbers: run with ACTORFACE_MALLOC=glibc)" };
        foreach (var o in new Option[] { network, mode, batch, dtype, steps, warmup, threads, compareMalloc, json, traceMemory }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var net = parse.GetValue(network)!;
            var m = parse.GetValue(mode)!;
            var dt = parse.GetValue(dtype)!;
            int b = parse.GetValue(batch), n = parse.GetValue(steps), w = parse.GetValue(warmup), t = parse.GetValue(threads);
            if (!GigaMacs.ContainsKey(net)) return Fail($"unknown --network '{net}' (expected {string.Join(", ", GigaMacs.Keys)})");
            if (m is not ("train" or "infer")) return Fail($"--mode must be train or infer, got '{m}'");
            if (dt is not ("fp32" or "bf16")) return Fail($"--dtype must be fp32 or bf16, got '{dt}'");
            if (b < 1 || n < 1 || w < 0 || t < 0) return Fail("--batch and --steps must be >= 1, --warmup and --threads >= 0");

            if (parse.GetValue(compareMalloc))
            {
                var args = new List<string> { "bench", "backbone", "--network", net, "--mode", m, "--batch", $"{b}", "--dtype", dt,
                    "--steps", $"{n}", "--warmup", $"{w}", "--threads", $"{t}" };
                if (parse.GetValue(json)) args.Add("--json");
                var modes = MallocStartup.FindJemalloc(File.Exists) is null ? new[] { "default", "glibc" } : ["default", "glibc", "jemalloc"];
                foreach (var malloc in modes)
                {
                    var (code, output) = SelfProcess.Run(args, new Dictionary<string, string> { ["ACTORFACE_MALLOC"] = malloc });
                    Console.Write(output);
                    if (code != 0) return code;
                }
                return 0;
            }

            var result = Measure(net, m == "train", b, dt == "bf16", n, w, t, parse.GetValue(traceMemory));
            Console.WriteLine(parse.GetValue(json) ? result.ToJson() : result.ToString());
            return 0;
        });
        return command;
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"bench backbone: {message}");
        return 2;
    }

    public static BenchResult Measure(string network, bool train, int batch, bool bf16, int steps, int warmup, int threads,
        bool traceMemory = false)
    {
        using var peakInUse = traceMemory ? new PeakInUseSampler() : null;
        void Trace(int step, string phase)
        {
            if (peakInUse is null) return;
            var heap = MallocStats.Read();
            Console.Error.WriteLine($"memory step={step} phase={phase} rss_mib={ProcessMemory.RssBytes() >> 20} " +
                $"heap_mib={heap.HeapBytes >> 20} in_use_mib={heap.InUseBytes >> 20} peak_in_use_mib={peakInUse.TakePeak() >> 20}");
        }
        if (traceMemory && MallocTuning.Mode == "jemalloc")
            Console.Error.WriteLine("bench backbone: --trace-memory reads glibc's heap, but jemalloc is preloaded: its heap and in-use columns " +
                                    "stay near zero (ACTORFACE_MALLOC=glibc for the trace)");
        Trace(-1, "start");
        if (threads > 0) torch.set_num_threads(threads);
        manual_seed(0);
        using var model = BackboneFactory.Create(network, fp16: bf16);
        var images = randn(batch, 3, 112, 112);
        using var sgd = train ? optim.SGD(model.parameters(), 0.1, momentum: 0.9, weight_decay: 5e-4) : null;
        if (train) model.train(); else model.eval();

        List<double> times = [], forwards = [], backwards = [];
        for (int i = 0; i < warmup + steps; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                if (train)
                {
                    sgd!.zero_grad();
                    var embeddings = model.forward(images);
                    var forward = sw.Elapsed.TotalSeconds;
                    Trace(i, "forward");
                    embeddings.pow(2).mean().backward();
                    if (i >= warmup) { forwards.Add(forward); backwards.Add(sw.Elapsed.TotalSeconds - forward); }
                    Trace(i, "backward");
                    sgd.step();
                    Trace(i, "step");
                }
                else
                    using (no_grad()) model.forward(images);
            }
            Trace(i, "end");
            if (i >= warmup) times.Add(sw.Elapsed.TotalSeconds);
        }

        var median = BenchResult.Median(times);
        var flopsPerStep = GigaMacs[network] * 1e9 * 2 * (train ? 3 : 1) * batch;
        var achieved = flopsPerStep / median / 1e9;
        var gemm = GemmPeak.Measure(bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
        var peak = gemm.Peak;
        return new BenchResult("backbone", new Dictionary<string, object>
        {
            ["network"] = network, ["mode"] = train ? "train" : "infer", ["dtype"] = bf16 ? "bf16" : "fp32", ["batch"] = batch,
            ["threads"] = torch.get_num_threads(), ["malloc"] = MallocTuning.Mode,
            ["step_s"] = Math.Round(median, 4), ["samples_per_s"] = Math.Round(batch / median, 2),
            ["forward_s"] = Math.Round(train ? BenchResult.Median(forwards) : median, 4),
            ["backward_s"] = Math.Round(train ? BenchResult.Median(backwards) : 0, 4),
            ["peak_rss_mib"] = ProcessMemory.PeakRssBytes() >> 20,
            ["gflops"] = Math.Round(achieved, 1), ["gemm_peak_gflops"] = Math.Round(peak, 1),
            ["gemm_native_gflops"] = Math.Round(gemm.Native, 1),
            ["fraction_of_peak"] = Math.Round(achieved / peak, 3),
        });
    }

    /// <summary>The most bytes glibc had in use since the last <see cref="TakePeak"/>, sampled every millisecond.</summary>
    sealed class PeakInUseSampler : IDisposable
    {
        long peak;
        volatile bool stopped;

        public PeakInUseSampler() => new Thread(Sample) { IsBackground = true, Name = "peak-in-use" }.Start();

        public long TakePeak() => Interlocked.Exchange(ref peak, 0);

        public void Dispose() => stopped = true;

        void Sample()
        {
            while (!stopped)
            {
                var inUse = MallocStats.Read().InUseBytes;
                if (inUse > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, inUse);
                Thread.Sleep(1);
            }
        }
    }
}
