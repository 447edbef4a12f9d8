using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.GpuCheck;

/// <summary>
/// `actorface gpu-check`: checks (a)–(e) of issue 17 on a CUDA machine, one line per check, exit 1 when any fails,
/// exit 3 when there is no CUDA device (TorchSharp's libtorch is CPU-only or no GPU is visible).
/// </summary>
public static class GpuCheckCommand
{
    public const int NoCuda = 3;

    public static Command Create()
    {
        var weights = new Option<string?>("--weights") { Description = "r18 state_dict for check a (default: ../shared/golden/r18_seed0.pth when present)" };
        var face = new Option<string?>("--face") { Description = "a 112x112 aligned face for check a (default: the first image of ../shared/data/celeba-subset-112)" };
        var steps = new Option<int>("--steps") { Description = "training steps per precision (checks d, e)", DefaultValueFactory = _ => 200 };
        var classes = new Option<long>("--classes") { Description = "Partial FC classes of checks d, e", DefaultValueFactory = _ => 1_000_000 };
        var network = new Option<string>("--network") { Description = "backbone of checks d, e", DefaultValueFactory = _ => "r50" };
        var batch = new Option<int>("--batch") { Description = "batch of checks b, d, e", DefaultValueFactory = _ => 128 };
        var python = new Option<string>("--python") { Description = "python with CUDA PyTorch for the peer of check e", DefaultValueFactory = _ => "python3" };
        var peer = new Option<string?>("--peer") { Description = "gpu_peer.py (default: next to the executable, else build/gpu/gpu_peer.py)" };
        var skip = new Option<string[]>("--skip") { Description = "checks to leave out (a b c d e); a skipped check is reported, never passed", AllowMultipleArgumentsPerToken = true };
        var command = new Command("gpu-check", "check the CUDA path: embedding, Partial FC, NCCL, fp16/bf16 training, speed next to PyTorch");
        foreach (var o in new Option[] { weights, face, steps, classes, network, batch, python, peer, skip }) command.Options.Add(o);
        command.SetAction(p => CommandErrors.Run(p, "gpu-check", o =>
        {
            if (!CudaPresent(out var why))
            {
                p.InvocationConfiguration.Error.WriteLine($"actorface gpu-check: no CUDA device: {why}. Run it on a GPU machine with the GPU bundle (build/gpu/README.md).");
                return NoCuda;
            }
            var skipped = (p.GetValue(skip) ?? []).SelectMany(s => s.Split(',')).Select(s => s.Trim()).ToHashSet();
            var results = Run(o, p.GetValue(weights), p.GetValue(face), p.GetValue(network)!, p.GetValue(classes), p.GetValue(batch),
                p.GetValue(steps), p.GetValue(python)!, p.GetValue(peer), skipped);
            var failed = results.Where(r => !r.Passed).ToList();
            o.WriteLine(failed.Count == 0 ? "gpu-check: all checks passed" : $"gpu-check: {failed.Count} check(s) failed: {string.Join(", ", failed.Select(f => f.Name))}");
            return failed.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    public static bool CudaPresent(out string why)
    {
        try
        {
            if (torch.cuda.is_available()) { why = ""; return true; }
            why = "torch.cuda.is_available() is false (CPU-only libtorch, or no visible GPU)";
        }
        catch (Exception e)
        {
            // TorchSharp's type initializer fails when no libtorch / LibTorchSharp loads (it prints its own trace).
            why = e is TypeInitializationException
                ? "TorchSharp could not load libtorch and LibTorchSharp (a bundle must be started through the ./actorface launcher that build-native.sh writes)"
                : e.Message;
        }
        return false;
    }

    private static List<CheckResult> Run(TextWriter o, string? weights, string? face, string network, long classes, int batch, int steps,
        string python, string? peer, IReadOnlySet<string> skip)
    {
        var device = new Device(DeviceType.CUDA, 0);
        o.WriteLine($"gpu-check on {device}: {Environment.ProcessorCount} cores, torch.cuda.device_count() = {torch.cuda.device_count()}");
        var results = new List<CheckResult>();
        void Add(string id, Func<CheckResult> check)
        {
            CheckResult r;
            if (skip.Contains(id)) r = new CheckResult($"{id}: skipped", false, "left out with --skip");
            else
            {
                try { r = check(); }
                catch (Exception e) { r = new CheckResult(id, false, $"{e.GetType().Name}: {e.Message}"); }
            }
            results.Add(r);
            o.WriteLine($"[{(r.Passed ? "PASS" : "FAIL")}] {r.Name}: {r.Detail}");
        }

        Add("a", () =>
        {
            var w = weights ?? Shared("golden", "r18_seed0.pth");
            var f = face ?? FirstImage(Shared("data", "celeba-subset-112"));
            if (w is null || !File.Exists(w) || f is null || !File.Exists(f))
                return new CheckResult("a: embedding", false, "pass --weights r18.pth and --face face.jpg (the defaults in ../shared were not found)");
            return GpuChecks.Embedding("r18", w, f, device);
        });
        Add("b", () => GpuChecks.PartialFC(100_000, 0.1, batch, device));
        Add("c", () => GpuChecks.AllReduce(NcclBackend.Instance, device));
        TrainingProbe? fp16 = null;
        Func<long>? memory = DeviceMemory.IsAvailable ? DeviceMemory.InUse : null;
        var what = $"{network} + Partial FC 0.1 at {classes} classes, batch {batch}, {steps} steps";
        Add("d", () =>
        {
            fp16 = GpuChecks.Train(network, classes, 0.1, batch, steps, "fp16", device, deviceBytes: memory);
            return GpuChecks.TrainingVerdict("fp16", fp16, what);
        });
        Add("d", () => GpuChecks.TrainingVerdict("bf16", GpuChecks.Train(network, classes, 0.1, batch, steps, "bf16", device), what));
        Add("e", () => Compare(fp16, python, peer, network, classes, batch, steps));
        return results;
    }

    /// <summary>(e) ActorFace's fp16 step (from check d) next to the plain-PyTorch peer run now on the same GPU.</summary>
    private static CheckResult Compare(TrainingProbe? ours, string python, string? peer, string network, long classes, int batch, int steps)
    {
        if (ours is null) return new CheckResult("e: speed", false, "check d (fp16) did not run, so there is nothing to compare");
        var script = peer ?? new[] { Path.Combine(AppContext.BaseDirectory, "gpu_peer.py"), Path.Combine("build", "gpu", "gpu_peer.py") }.FirstOrDefault(File.Exists);
        if (script is null) return new CheckResult("e: speed", false, "gpu_peer.py not found: pass --peer");
        var args = string.Create(CultureInfo.InvariantCulture, $"\"{script}\" --network {network} --classes {classes} --sample-rate 0.1 --batch {batch} --steps {steps} --precision fp16");
        var start = new ProcessStartInfo(python, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
        if (process.ExitCode != 0 || line is null)
            return new CheckResult("e: speed", false, $"the PyTorch peer failed (exit {process.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        using var json = JsonDocument.Parse(line);
        var theirs = json.RootElement.GetProperty("samples_per_s").GetDouble();
        var theirPeak = json.RootElement.GetProperty("peak_reserved_bytes").GetInt64();
        var ratio = ours.SamplesPerSecond / theirs;
        var memory = ours.PeakDeviceBytes > 0 ? $"{ours.PeakDeviceBytes / (double)(1L << 30):F2} GiB in use (cudaMemGetInfo, peak after each step)" : "memory not measured (libcudart not found)";
        return new CheckResult("e: speed", true,
            $"ActorFace {ours.SamplesPerSecond:F1} samples/s, {memory}; PyTorch {theirs:F1} samples/s, {theirPeak / (double)(1L << 30):F2} GiB reserved " +
            $"(torch {json.RootElement.GetProperty("torch").GetString()}); ratio ActorFace/PyTorch {ratio:F3}");
    }

    private static string? Shared(string folder, string name)
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", folder, name);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", folder, name);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }

    private static string? FirstImage(string? folder) =>
        folder is null ? null : Directory.EnumerateFiles(folder, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).FirstOrDefault();
}
