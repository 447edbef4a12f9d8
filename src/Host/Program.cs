using System.CommandLine;
using ActorFace.Host.Commands;

namespace ActorFace.Host;

public static class Program
{
    public static int Main(string[] args)
    {
        ActorFace.Model.Runtime.MallocStartup.EnsureAtProcessStart(); // before any thread of ours exists
        ActorFace.Model.Runtime.MallocTuning.Apply();
        var root = new RootCommand("ActorFace: ArcFace / Partial FC face-recognition training on an Akka.NET cluster");
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root.Parse(args).Invoke();
    }
}
