using System.Diagnostics;
using ActorFace.Host.Commands;

namespace ActorFace.Host.Tests.Train;

/// <summary>Bad input ends `actorface train` quickly with a non-zero exit code and one clear line on stderr.</summary>
public sealed class TrainCommandErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-train-err-");

    public void Dispose() => _dir.Dispose();

    private (int Code, string Out, string Err) Run(params string[] sets)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = TrainCommand.Run(null, [.. sets], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void UnreachableSeedNodeFailsAfterTheBoundedJoinWait()
    {
        var clock = Stopwatch.StartNew();
        var (code, _, err) = Run("output=" + Path.Combine(_dir, "out"), "cluster.seed_nodes=[\"akka.tcp://actorface@127.0.0.1:9\"]",
            "cluster.join_timeout=3s");
        Assert.Equal(1, code);
        Assert.Contains("could not join the cluster through seed node(s) akka.tcp://actorface@127.0.0.1:9 within 3s", err);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void OutputDirectoryThatCannotBeWrittenIsRefusedBeforeStarting()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var (code, _, err) = Run("output=" + Path.Combine(file, "out"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: output directory '", err);
        Assert.Contains("not writable", err);
    }

    [Fact]
    public void UnknownKeyIsRefusedNamingTheKey()
    {
        var (code, _, err) = Run("batch_sise=3");
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'actorface.batch_sise'", err);
        Assert.Contains("--set batch_sise=3", err);
    }
}
