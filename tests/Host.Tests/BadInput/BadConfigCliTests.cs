using System.Net;
using System.Net.Sockets;

namespace ActorFace.Host.Tests.BadInput;

/// <summary>
/// Issue 16, items 1-8: careless or hostile configuration and command lines end `actorface train` (a real process)
/// with exit code 2 and one line naming the file, key or port, before anything starts.
/// </summary>
// One process at a time, but each loads the runtime (and TorchSharp): kept out of the way of the multi-process runs.
[Collection(RealProcessCollection.Name)]
public sealed class BadConfigCliTests : IDisposable
{
    readonly TempDirectory dir = new("af-badconf-");

    public void Dispose() => dir.Dispose();

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    Task<string> Train(params string[] args) => CliRefusal.RunAsync(["train", "--output", Path.Combine(dir, "out"), .. args]);

    /// <summary>The shipped synthetic job plus <paramref name="extra"/>: every other key is valid.</summary>
    string Job(string name, string extra) =>
        Write(name, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "synthetic_cpu.conf")) + "\n" + extra + "\n");

    [Theory] // item 1
    [InlineData("self.conf", "actorface.lr = ${actorface.lr}", "'actorface.lr' refers to itself: actorface.lr -> ${actorface.lr}")]
    [InlineData("mutual.conf", "actorface { lr = ${actorface.momentum}\nmomentum = ${actorface.lr} }",
        "'actorface.lr' refers to itself: actorface.lr -> ${actorface.momentum} -> ${actorface.lr}")]
    public async Task ASelfReferenceInTheJobFileIsRefusedNamingTheKey(string name, string hocon, string expected)
    {
        var path = Job(name, hocon);
        var output = await Train("--config", path);
        Assert.Contains($"error: {path}: {expected}", output);
        Assert.True(output.Split('\n').Length < 5, output);
    }

    [Fact] // item 1, through --set
    public async Task ASelfReferenceThroughSetIsRefused()
    {
        var output = await Train("--set", "lr=${actorface.lr}");
        Assert.Contains("error: --set lr=${actorface.lr}: 'actorface.lr' refers to itself", output);
    }

    [Theory] // item 2
    [InlineData("braces")]
    [InlineData("brackets")]
    [InlineData("dotted")]
    public async Task NestingFiftyThousandDeepIsRefusedBeforeParsing(string kind)
    {
        const int n = 50_000;
        var text = kind switch
        {
            "braces" => "actorface.x = " + string.Concat(Enumerable.Repeat("{a=", n)) + "1" + new string('}', n),
            "brackets" => "actorface.x = " + new string('[', n) + "1" + new string(']', n),
            _ => "actorface." + string.Join('.', Enumerable.Repeat("a", n)) + " = 1",
        };
        var path = Write(kind + ".conf", text);
        var output = await Train("--config", path);
        Assert.Contains($"error: {path}: line 1: nesting deeper than 100 levels", output);
    }

    [Theory] // item 3
    [InlineData("lr=1e400", "actorface.lr", "'1e400'")]
    [InlineData("lr=NaN", "actorface.lr", "'NaN'")]
    [InlineData("margin_list=[1.0, 0.5, -1e999]", "actorface.margin_list", "'[1.0,0.5,-1e999]'")]
    public async Task NonFiniteNumbersAreRefusedAtLoad(string set, string key, string shown)
    {
        var output = await Train("--set", set);
        Assert.Contains($"error: --set {set}: key '{key}' must be a finite number, got {shown}", output);
    }

    [Fact] // item 4
    public async Task IncludeIsRefusedWithTheLineAndWhatToDoInstead()
    {
        Write("sibling.conf", "actorface.batch_size = 8");
        var path = Job("including.conf", "include \"sibling.conf\"");
        var output = await Train("--config", path);
        Assert.Matches($@"error: {System.Text.RegularExpressions.Regex.Escape(path)}: line \d+: 'include' is not supported; copy the included keys into this file, or set them with --set", output);
    }

    [Fact] // item 5
    public async Task AnAkkaHostnameOfAllInterfacesInTheJobFileIsRefusedNamingKeyAndFile()
    {
        var path = Job("any.conf", "akka.remote.dot-netty.tcp.hostname = \"0.0.0.0\"");
        var output = await Train("--config", path);
        Assert.Contains($"error: {path}: key 'akka.remote.dot-netty.tcp.hostname' = '0.0.0.0': Akka.Remote: '0.0.0.0' is not a loopback address", output);
    }

    [Theory] // item 6
    [InlineData("num_workers=100000", "num_workers", "must be in 1..64 (decoding threads per rank), got 100000")]
    [InlineData("batch_size=1000000", "batch_size", "must be in 1..8192 (images per rank per step), got 1000000")]
    [InlineData("data.prefetch=100000", "data.prefetch", "must be in 1..64 (batches decoded ahead per rank), got 100000")]
    [InlineData("cluster.workers_per_node=5000", "cluster.workers_per_node", "must be in 0..128 (ranks in this process), got 5000")]
    public async Task SizeLikeKeysAreBoundedAndTheMessageSaysTheRange(string set, string key, string expected)
    {
        var output = await Train("--set", set);
        Assert.Contains($"error: --set {set}: key 'actorface.{key}' {expected}", output);
    }

    [Theory] // item 6, command-line sizes
    [InlineData("chaos --processes 100000", "error: --processes must be 2..32")]
    [InlineData("chaos --timeout 1e400", "--timeout 0..10080 minutes")]
    [InlineData("make-bin --images . --pairs 2000000000 --out never.bin", "actorface make-bin: --pairs 2000000000: at most 1,000,000")]
    public async Task SizeLikeOptionsAreBoundedToo(string commandLine, string expected)
    {
        var output = await CliRefusal.RunAsync(commandLine.Split(' '));
        Assert.Contains(expected, output);
    }

    [Fact] // item 7
    public async Task AWorldReadableClusterSecretFileIsRefusedWithTheFix()
    {
        var secret = Write("secret", Convert.ToBase64String(new byte[32]));
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var output = await Train("--set", "cluster.secret_file=" + secret);
        Assert.Contains($"key 'actorface.cluster.secret_file': cluster secret file {secret}: permissions 0644 are too open", output);
        Assert.Contains($"run: chmod 600 {secret}", output);
    }

    [Fact] // item 8
    public async Task AnHttpPortAlreadyTakenIsRefusedBeforeTheClusterStarts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var output = await Train("--http", $"127.0.0.1:{port}");
        Assert.Contains($"error: --http 127.0.0.1:{port}: port {port} is already in use on 127.0.0.1", output);
        Assert.DoesNotContain("Akka.Remote listens", output); // nothing started
    }
}
