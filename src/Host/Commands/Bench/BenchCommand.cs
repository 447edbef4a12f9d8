using System.CommandLine;

namespace ActorFace.Host.Commands.Bench;

/// <summary>`actorface bench ...`: speed and memory measurements (never asserted in unit tests).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Speed and memory benchmarks: backbone, pfc, allreduce, data");
        bench.Subcommands.Add(BenchBackboneCommand.Create());
        bench.Subcommands.Add(BenchPartialFCCommand.Create());
        bench.Subcommands.Add(BenchDataCommand.Create());
        bench.Subcommands.Add(BenchAllReduceCommand.Create());
        bench.Subcommands.Add(BenchSpeedCommand.Create());
        bench.Subcommands.Add(BenchKernelsCommand.Create());
        bench.Subcommands.Add(BenchSteadyCommand.Create());
        bench.Subcommands.Add(BenchOnnxEvalCommand.Create());
        return bench;
    }
}
