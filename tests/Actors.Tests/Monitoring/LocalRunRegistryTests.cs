using ActorFace.Actors.Monitoring;

namespace ActorFace.Actors.Tests.Monitoring;

public class LocalRunRegistryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actorface-reg-" + Guid.NewGuid().ToString("N"));
    private readonly string? _previous = Environment.GetEnvironmentVariable(LocalRunRegistry.TempFileVariable);

    public LocalRunRegistryTests()
    {
        Directory.CreateDirectory(_dir);
        Environment.SetEnvironmentVariable(LocalRunRegistry.TempFileVariable, Path.Combine(_dir, "tmp", "local-seed.json"));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(LocalRunRegistry.TempFileVariable, _previous);
        Directory.Delete(_dir, recursive: true);
    }

    private LocalRunInfo Info(int pid) => new("actorface", ["akka.tcp://actorface@127.0.0.1:4053"], pid,
        DateTime.UtcNow, Path.Combine(_dir, "run"), "127.0.0.1:9100");

    [Fact]
    public void WrittenRunIsFoundByOutputFolderAndByTheTempFile()
    {
        var info = Info(Environment.ProcessId);
        var written = LocalRunRegistry.Write(info);

        Assert.Equal([Path.Combine(_dir, "run", "cluster.json"), LocalRunRegistry.TempFile], written);
        Assert.Equal(info.SeedNodes, LocalRunRegistry.Find(info.OutputDir).SeedNodes);
        Assert.Equal("127.0.0.1:9100", LocalRunRegistry.Find(null).HttpEndpoint);

        LocalRunRegistry.Remove(info);
        var ex = Assert.Throws<FileNotFoundException>(() => LocalRunRegistry.Find(info.OutputDir));
        Assert.Contains("cluster.json", ex.Message);
    }

    [Fact]
    public void RegistrationOfADeadProcessIsReportedNotUsed()
    {
        LocalRunRegistry.Write(Info(int.MaxValue - 7));

        var ex = Assert.Throws<InvalidOperationException>(() => LocalRunRegistry.Find(Path.Combine(_dir, "run")));
        Assert.Contains("not running", ex.Message);
    }
}
