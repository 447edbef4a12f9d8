using System.CommandLine;
using ActorFace.Host.Commands;

namespace ActorFace.Host.Tests.Evaluation;

internal static class CommandRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand();
        foreach (var c in CommandCatalog.All()) root.Subcommands.Add(c);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }
}
