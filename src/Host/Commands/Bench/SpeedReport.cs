using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands.Bench;

/// <summary>The markdown of `bench speed`: machine description, then per rank count the two tables of spec §8.6.</summary>
public static class SpeedReport
{
    public static string Markdown(IReadOnlyList<SpeedCell> cells, string network, int batch, int[] ranks, long[] classes, string commandLine)
    {
        var modes = Enum.GetValues<SpeedMode>();
        var sb = new StringBuilder();
        sb.AppendLine($"# actorface bench speed ({network}, batch {batch} per rank)").AppendLine();
        sb.AppendLine($"Command: `{commandLine}`").AppendLine();
        sb.AppendLine($"Machine: {MachineDescription()}").AppendLine();
        foreach (var r in ranks)
        {
            foreach (var (title, value) in new (string, Func<SpeedCell, string>)[]
            {
                ("Training speed, samples/s (all ranks together)", c => c.Note ?? $"{c.SamplesPerSecond:0.##}"),
                ("Peak memory per rank, MiB (RSS)", c => c.Note ?? $"{c.PeakRssMiB}"),
            })
            {
                sb.AppendLine($"## {title}, {r} rank(s)").AppendLine();
                sb.AppendLine("| identities | " + string.Join(" | ", modes.Select(SpeedRow.Name)) + " |");
                sb.AppendLine("|---|" + string.Concat(modes.Select(_ => "---|")));
                foreach (var c in classes)
                    sb.AppendLine($"| {c:N0} | " + string.Join(" | ", modes.Select(m =>
                        cells.FirstOrDefault(x => x.Mode == m && x.Classes == c && x.Ranks == r) is { } cell ? value(cell) : "not run")) + " |");
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }

    /// <summary>CPU model, cores, the SIMD flags that matter for GEMM speed, libtorch threads and version.</summary>
    public static string MachineDescription()
    {
        string model = "unknown CPU";
        var flags = new List<string>();
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").ToList();
            model = lines.FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? model;
            var all = lines.FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            flags = all.Where(f => f is "avx2" or "fma" or "avx512f" or "avx512_bf16" or "avx512_vnni" or "amx_bf16" or "amx_tile").ToList();
        }
        catch (IOException) { }
        var bf16Note = ActorFace.Model.Backbones.CpuBf16.IsNative ? " (bf16 native)"
            : " (bf16 emulated: float32 kernels on bf16-rounded operands, no faster than fp32)";
        return $"{model}, {Environment.ProcessorCount} logical cores, flags [{string.Join(' ', flags)}]{bf16Note}, " +
               $"libtorch threads {torch.get_num_threads()}, TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {LibTorchLocation()}";
    }

    /// <summary>Where libtorch_cpu.so was loaded from (its NuGet package folder names the version).</summary>
    static string LibTorchLocation()
    {
        try
        {
            var path = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
                .FirstOrDefault(l => l.EndsWith("libtorch_cpu.so"));
            return path ?? "not loaded";
        }
        catch (IOException) { return "unknown"; }
    }
}
