using System.CommandLine;

namespace ActorFace.Host.Commands;

/// <summary>Every `actorface` sub-command, one file each; add new ones here.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return PackCommand.Create();
        yield return Group("bench", "Throughput benchmarks",
            BenchDataCommand.Create());
    }

    /// <summary>A parent command whose sub-commands live in their own files (e.g. `bench data`).</summary>
    static Command Group(string name, string description, params Command[] subcommands)
    {
        var group = new Command(name, description);
        foreach (var c in subcommands) group.Subcommands.Add(c);
        return group;
    }
}
