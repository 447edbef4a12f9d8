using System.CommandLine;
using ActorFace.Model.Runtime;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench steady`: the "no allocation growth over 1,000 steps" check. Runs the full training step (small
/// backbone + Partial FC) for N steps and reports managed heap, RSS, native memory (RSS minus the managed heap:
/// libtorch's tensors and allocator caches) and live TorchSharp tensor handles at step 100 and step N, with the
/// growth per 100 steps in between.
/// </summary>
public static class BenchSteadyCommand
{
    public static Command Create()
    {
        var command = new Command("steady", "Memory growth over many training steps (managed heap, RSS, native memory, live tensors)");
        var network = new Option<string>("--network") { DefaultValueFactory = _ => "mbf" };
        var classes = new Option<long>("--classes") { DefaultValueFactory = _ => 10_000 };
        var sampleRate = new Option<double>("--sample-rate") { DefaultValueFactory = _ => 0.1 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 1000 };
        var baseline = new Option<int>("--baseline-step") { Description = "step whose figures are the baseline (after warm-up)", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json");
        foreach (var o in new Option[] { network, classes, sampleRate, batch, steps, baseline, json }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var net = parse.GetValue(network)!;
            long c = parse.GetValue(classes);
            double sr = parse.GetValue(sampleRate);
            int b = parse.GetValue(batch), n = parse.GetValue(steps), at = parse.GetValue(baseline);
            if (!SpeedRow.Known(net) || c < 2 || sr is < 0 or > 1 || b < 1 || at < 1 || n <= at)
            {
                Console.Error.WriteLine("bench steady: need a known --network, --classes >= 2, --sample-rate in [0, 1], --batch >= 1, 1 <= --baseline-step < --steps");
                return 2;
            }
            Snapshot? first = null, last = null;
            using var collective = new SingleRankCollective();
            var median = SpeedRow.Loop(net, c, b, n, 0, collective, bf16: false, sr, dp: false, afterStep: step =>
            {
                if (step == at) first = Snapshot.Take(step);
                if (step == n) last = Snapshot.Take(step);
                if (step % 100 == 0) Console.Error.WriteLine($"bench steady: {Snapshot.Take(step)}");
            });
            double per100 = 100.0 / (last!.Step - first!.Step);
            var result = new BenchResult("steady", new Dictionary<string, object>
            {
                ["network"] = net, ["classes"] = c, ["sample_rate"] = sr, ["batch"] = b, ["steps"] = n, ["step_s"] = Math.Round(median, 4),
                [$"managed_mib_at_{at}"] = Math.Round(first.ManagedMiB, 2), [$"managed_mib_at_{n}"] = Math.Round(last.ManagedMiB, 2),
                [$"rss_mib_at_{at}"] = Math.Round(first.RssMiB, 1), [$"rss_mib_at_{n}"] = Math.Round(last.RssMiB, 1),
                [$"native_mib_at_{at}"] = Math.Round(first.NativeMiB, 1), [$"native_mib_at_{n}"] = Math.Round(last.NativeMiB, 1),
                [$"live_tensors_at_{at}"] = first.LiveTensors, [$"live_tensors_at_{n}"] = last.LiveTensors,
                ["managed_growth_mib_per_100"] = Math.Round((last.ManagedMiB - first.ManagedMiB) * per100, 3),
                ["rss_growth_mib_per_100"] = Math.Round((last.RssMiB - first.RssMiB) * per100, 2),
                ["native_growth_mib_per_100"] = Math.Round((last.NativeMiB - first.NativeMiB) * per100, 2),
                ["data_loader_wait"] = "not measured (synthetic in-memory batches; see bench data for loader throughput)",
            });
            Console.WriteLine(parse.GetValue(json) ? result.ToJson() : result.ToString());
            return 0;
        });
        return command;
    }

    sealed record Snapshot(int Step, double ManagedMiB, double RssMiB, double NativeMiB, long LiveTensors)
    {
        public static Snapshot Take(int step)
        {
            // A full collection first, so that the managed figure is live data rather than garbage awaiting a GC.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            double managed = GC.GetTotalMemory(false) / 1048576.0;
            double committed = GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0;
            double rss = ProcessMemory.RssBytes() / 1048576.0;
            return new Snapshot(step, managed, rss, rss - committed, torch.Tensor.TotalCount);
        }

        public override string ToString() => $"step {Step}: managed {ManagedMiB:0.0} MiB, RSS {RssMiB:0.0} MiB, native {NativeMiB:0.0} MiB, live tensors {LiveTensors}";
    }
}
