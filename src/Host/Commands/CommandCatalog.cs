using System.CommandLine;

namespace ActorFace.Host.Commands;

/// <summary>Every `actorface` sub-command, one file each; add new ones here (`bench` ones in Bench/BenchCommand.cs).</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return TrainCommand.Create();
        yield return EvalCommand.Create();
        yield return MakeBinCommand.Create();
        yield return EvalIjbCommand.Create();
        yield return EmbedCommand.Create();
        yield return ExportCommand.Create();
        yield return PackCommand.Create();
        yield return Bench.BenchCommand.Create();
        yield return MonitorCommand.Create();
        yield return ChaosCommand.Create();
        yield return ImportCheckpointCommand.Create();
        yield return GpuCheck.GpuCheckCommand.Create();
    }
}
