using System.CommandLine;
using ActorFace.Host.Chaos;

namespace ActorFace.Host.Commands;

/// <summary>`actorface chaos`: kill -9 / SIGSTOP training processes at random and check that the job survives
/// (docs/fault-tolerance.md). Exit code 0 only if every check held; the last line summarises the run.</summary>
public static class ChaosCommand
{
    public static Command Create()
    {
        var processes = new Option<int>("--processes") { Description = "Training processes on 127.0.0.1 (one rank each)", DefaultValueFactory = _ => 3 };
        var kills = new Option<int>("--kills") { Description = "SIGKILLs (one of them hits the coordinator's node)", DefaultValueFactory = _ => 2 };
        var pauses = new Option<int>("--pauses") { Description = "SIGSTOP/SIGCONT pauses shorter than the failure detector's acceptable pause", DefaultValueFactory = _ => 1 };
        var restart = new Option<bool>("--restart") { Description = "Restart each killed process; it rejoins as a stand-by" };
        var output = new Option<string?>("--output") { Description = "Folder for the runs and logs (replaced)" };
        var seed = new Option<int>("--seed") { Description = "Random seed of the failure schedule", DefaultValueFactory = _ => 1 };
        var config = new Option<string?>("--config") { Description = "HOCON job file for the training processes" };
        var set = new Option<string[]>("--set") { Description = "Override a training key (after the tiny defaults)" };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the undisturbed run (and the accuracy check)" };
        var tolerance = new Option<double>("--accuracy-tolerance") { Description = "How many points the final accuracy may fall below the undisturbed run's", DefaultValueFactory = _ => 0.5 };
        var baselineWorlds = new Option<int[]>("--baseline-worlds")
        {
            Description = "World sizes of the undisturbed runs, comma separated (default: --processes); the accuracy check uses the weakest",
            CustomParser = r =>
            {
                var worlds = new List<int>();
                foreach (var value in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)))
                {
                    if (!int.TryParse(value, out var w) || w < 1) { r.AddError($"--baseline-worlds: '{value}' is not a positive world size"); return []; }
                    worlds.Add(w);
                }
                return worlds.ToArray();
            },
        };
        var timeout = new Option<double>("--timeout") { Description = "Minutes before the run is abandoned", DefaultValueFactory = _ => 10 };
        var command = new Command("chaos", "Fault-tolerance check: train with N processes, kill/pause them at random, verify the job survives");
        foreach (var o in new Option[] { processes, kills, pauses, restart, output, seed, config, set, noBaseline, baselineWorlds, tolerance, timeout })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            var n = parse.GetValue(processes);
            var k = parse.GetValue(kills);
            // Bounded: each process is a full training process on this machine, each minute a real wait.
            if (n is < 2 or > 32 || k is < 0 or > 1000 || parse.GetValue(pauses) is < 0 or > 1000
                || parse.GetValue(timeout) is not (> 0 and <= 10_080))
            {
                Console.Error.WriteLine("error: --processes must be 2..32, --kills and --pauses 0..1000, --timeout 0..10080 minutes (a week)");
                return 2;
            }
            if (!parse.GetValue(restart) && k >= n)
            {
                Console.Error.WriteLine($"error: {k} kill(s) of {n} processes would leave none: use fewer --kills or --restart");
                return 2;
            }
            var options = new ChaosOptions
            {
                Processes = n, Kills = k, Pauses = parse.GetValue(pauses), Restart = parse.GetValue(restart),
                Output = parse.GetValue(output) ?? Path.Combine(Path.GetTempPath(), "actorface-chaos"),
                Seed = parse.GetValue(seed), Config = parse.GetValue(config), Sets = parse.GetValue(set) ?? [],
                Baseline = !parse.GetValue(noBaseline), AccuracyTolerance = parse.GetValue(tolerance),
                BaselineWorlds = parse.GetValue(baselineWorlds) ?? [],
                Timeout = TimeSpan.FromMinutes(parse.GetValue(timeout)),
            };
            var report = new ChaosRunner(options, Console.Out).RunAsync().GetAwaiter().GetResult();
            report.Print(Console.Out);
            return report.Passed ? 0 : 1;
        });
        return command;
    }
}
