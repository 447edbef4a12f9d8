using System.CommandLine;

namespace ActorFace.Host.Commands;

/// <summary>Every `actorface` sub-command, one file each; add new ones here.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return BenchCollectivesCommand.Create();
        yield return MonitorCommand.Create();
    }
}
