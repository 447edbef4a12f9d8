using ActorFace.Host.Tests.Train;

namespace ActorFace.Host.Tests.BadInput;

/// <summary>Runs the real `actorface` process (<see cref="ActorfaceProcess"/>) and checks a clean refusal.</summary>
internal static class CliRefusal
{
    public static async Task<string> RunAsync(params string[] args)
    {
        using var process = new ActorfaceProcess(args);
        var code = await process.WaitAsync(TimeSpan.FromSeconds(120));
        var output = process.Output;
        Assert.True(code == 2, $"exit code {code} (expected 2 for bad input); output:\n{Head(output)}");
        Assert.DoesNotContain("   at ", output);              // no .NET stack trace on the console
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("Stack overflow", output);
        return output;
    }

    static string Head(string s) => s.Length <= 4000 ? s : s[..4000] + "...";
}
