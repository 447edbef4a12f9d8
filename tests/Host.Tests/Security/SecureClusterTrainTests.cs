using System.Globalization;
using System.Security.Cryptography;
using ActorFace.Host.Tests.Train;

namespace ActorFace.Host.Tests.Security;

/// <summary>
/// Real `actorface train` processes on 127.0.0.1: two members that share the cluster's credentials train a tiny job
/// over TLS (Akka.Remote and the TCP ring) derived from their cluster secret; a process with another secret and one
/// with a certificate of another CA try to join through the same seed node, are refused at the TLS handshake and exit
/// with a clear error, and the job ends normally.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class SecureClusterTrainTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-secure-");

    public void Dispose() => _dir.Dispose();

    /// <summary>Synthetic identities, MobileFaceNet 32-d, 2 ranks x batch 4, one epoch of a few steps.</summary>
    private static readonly string[] Tiny = [.. TinyJob.Args(classes: 6, images: 32, checkpointEvery: 2), "--workers-per-node", "1", "--min-workers", "2"];

    private string SecretFile(string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // a looser secret file is refused
        return path;
    }

    private static string[] Tls(TestCertificates.NodeFiles f) =>
        ["--set", "cluster.tls.certificate=" + f.Certificate, "--set", "cluster.tls.key=" + f.Key, "--set", "cluster.tls.ca=" + f.Ca];

    [Fact]
    public async Task ProcessesWithAnotherSecretOrAnUntrustedCertificateCannotJoinAndTheJobFinishes()
    {
        var output = Path.Combine(_dir, "out");
        string[] good = ["--set", "cluster.secret_file=" + SecretFile("secret")];
        using var certs = new TestCertificates();
        var rogue = certs.IssueNode(certs.CreateCa("rogue-ca"), "intruder");
        var port = FreePorts.One();
        string[] common = [.. Tiny, "--seed-nodes", $"akka.tcp://actorface@127.0.0.1:{port}"];
        // 30 s: on a loaded machine a 10 s join could give up before its TLS handshake with the seed had happened.
        string[] intruder = [.. common, "--set", "cluster.join_timeout=30s"];
        using var seed = new ActorfaceProcess([.. common, .. good, "--output", output, "--port", port.ToString(CultureInfo.InvariantCulture), "--set", "cluster.join_timeout=60s"]);
        // Started once the seed listens and before the legitimate member, so they knock while the seed waits for its
        // second rank (on a busy machine a process may take seconds to start: an intruder started with the seed could
        // give up before the seed even listened).
        await seed.WaitForOutputAsync("Akka.Remote listens on", TimeSpan.FromMinutes(1));
        using var wrongSecret = new ActorfaceProcess([.. intruder, "--set", "cluster.secret_file=" + SecretFile("other-secret"), "--output", Path.Combine(_dir, "i1")]);
        using var untrustedCertificate = new ActorfaceProcess([.. intruder, .. Tls(rogue), "--output", Path.Combine(_dir, "i2")]);
        using var member = new ActorfaceProcess([.. common, .. good, "--output", output, "--set", "cluster.join_timeout=60s"]);

        foreach (var p in new[] { wrongSecret, untrustedCertificate })
        {
            Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(2)) == 1, p.Output);
            Assert.Contains("ERR error: could not join the cluster through seed node(s)", p.Output);
            Assert.Contains("refused at the TLS handshake", p.Output);
        }
        // In TLS 1.3 the client judges the server's certificate first, so each intruder's error names the reason.
        Assert.Contains("This node refused", wrongSecret.Output);
        Assert.Contains("was not made from this cluster's secret", wrongSecret.Output);
        Assert.Matches("This node refused .*does not chain to the pinned CA", untrustedCertificate.Output);
        Assert.True(await seed.WaitAsync(TimeSpan.FromMinutes(3)) == 0, seed.Output);
        Assert.True(await member.WaitAsync(TimeSpan.FromMinutes(1)) == 0, member.Output);

        // The job ran with exactly the two members and ended at the last step the coordinator planned, with its manifest.
        var plan = System.Text.RegularExpressions.Regex.Match(seed.Output, @"2 rank\(s\) on 2 node\(s\), starting from scratch; \d+ steps/epoch, (\d+) steps in all");
        Assert.True(plan.Success, seed.Output);
        var last = int.Parse(plan.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Contains($"actorface: training finished at global step {last};", seed.Output);
        Assert.Contains($"actorface: training finished at global step {last};", member.Output);
        Assert.True(File.Exists(Path.Combine(output, "checkpoints", $"step_{last:D8}.manifest.json")));
        // What is exposed, and how it is protected, is logged; the seed saw both intruders and turned them away.
        Assert.Contains("cluster security: mutual TLS (cluster-secret certificate", seed.Output);
        Assert.Contains($"Akka.Remote listens on 127.0.0.1:{port} (loopback only", seed.Output);
        Assert.Matches(@"TCP collective rank [01] listens on 127\.0\.0\.1:\d+ \(loopback only", seed.Output);
        // Whichever side validates first refuses (in TLS 1.3 the client judges the server's certificate first), with the reason.
        Assert.Matches("Rejected incoming connection .* due to TLS handshake failure|Akka.Remote TLS: refused", seed.Output);
        Assert.Contains("was not made from this cluster's secret", seed.Output + wrongSecret.Output);
        Assert.Matches("does not chain to the pinned CA|CN=intruder was not made from this cluster's secret", seed.Output + untrustedCertificate.Output);
    }
}
