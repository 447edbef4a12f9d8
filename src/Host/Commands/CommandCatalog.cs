using System.CommandLine;

namespace ActorFace.Host.Commands;

/// <summary>Every `actorface` sub-command, one file each; add new ones here.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return EvalCommand.Create();
        yield return MakeBinCommand.Create();
        yield return EvalIjbCommand.Create();
        yield return EmbedCommand.Create();
        yield return BenchCollectivesCommand.Create();
    }
}
