using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Communication.Security;
using ActorFace.Model.Tests.Communication.Collectives;

namespace ActorFace.Model.Tests.Communication.Security;

public sealed class CollectiveTlsTests : IDisposable
{
    readonly TestCertificates certs = new();

    public void Dispose() => certs.Dispose();

    static TcpCollectiveOptions WithTls(TlsCredentials credentials, double connectSeconds = 20) =>
        SecureRing.Options(o => o with { WrapStream = CollectiveTls.Wrap(credentials) }, connectSeconds);

    [Fact]
    public void RingOverMutualTlsWithCertificatesFromThePinnedCaWorks()
    {
        var ca = certs.CreateCa("actorface-test-ca");
        var creds = Enumerable.Range(0, 3).Select(r =>
        {
            var f = certs.IssueNode(ca, $"node{r}");
            return TlsCredentials.FromPemFiles(f.Certificate, f.Key, f.Ca);
        }).ToArray();
        var results = SecureRing.Connect(FreePorts.Loopback(3), r => WithTls(creds[r]));
        var world = results.Select(r => (ICollective)(r.Comm ?? throw new Xunit.Sdk.XunitException($"rank failed: {r.Error}"))).ToArray();
        try { SecureRing.AssertAllReduceWorks(world); }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
            foreach (var c in creds) c.Dispose();
        }
    }

    [Fact]
    public void RankWithACertificateFromAnotherCaIsRefused()
    {
        var ca = certs.CreateCa("actorface-test-ca");
        var rogueCa = certs.CreateCa("rogue-ca");
        var good = certs.IssueNode(ca, "node0");
        var rogue = certs.IssueNode(rogueCa, "node1");
        // The rogue node even pins the real CA: it trusts us, but we do not trust it.
        using var goodCreds = TlsCredentials.FromPemFiles(good.Certificate, good.Key, good.Ca);
        using var rogueCreds = TlsCredentials.FromPemFiles(rogue.Certificate, rogue.Key, good.Ca);
        var results = SecureRing.Connect(FreePorts.Loopback(2), r => WithTls(r == 0 ? goodCreds : rogueCreds, 4));
        foreach (var (comm, _) in results) comm?.Dispose();
        Assert.All(results, r => Assert.Null(r.Comm));
        Assert.Contains(results, r => r.Error!.ToString().Contains("does not chain to the pinned CA"));
    }

    [Fact]
    public void SecretDerivedTlsAdmitsOnlyHoldersOfTheSecret()
    {
        var secret = ClusterSecret.Generate();
        using var a = TlsCredentials.FromClusterSecret(secret);
        using var b = TlsCredentials.FromClusterSecret(ClusterSecret.FromText(Convert.ToBase64String(secret.DeriveKey("x")))); // other secret
        using var a2 = TlsCredentials.FromClusterSecret(secret); // same secret, independently derived (another node)
        Assert.NotEqual(a.Certificate.Thumbprint, a2.Certificate.Thumbprint); // fresh signature, same key

        var ok = SecureRing.Connect(FreePorts.Loopback(2), r => WithTls(r == 0 ? a : a2));
        var world = ok.Select(r => (ICollective)(r.Comm ?? throw new Xunit.Sdk.XunitException($"rank failed: {r.Error}"))).ToArray();
        try { SecureRing.AssertAllReduceWorks(world); }
        finally { CollectiveWorlds.DisposeAll(world); }

        var refused = SecureRing.Connect(FreePorts.Loopback(2), r => WithTls(r == 0 ? a : b, 4));
        foreach (var (comm, _) in refused) comm?.Dispose();
        Assert.All(refused, r => Assert.Null(r.Comm));
        Assert.Contains(refused, r => r.Error!.ToString().Contains("was not made from this cluster's secret"));
    }

    [Fact]
    public void SecretAndTlsCombinedStillFormAWorkingRing()
    {
        var secret = ClusterSecret.Generate();
        using var tls = TlsCredentials.FromClusterSecret(secret);
        var results = SecureRing.Connect(FreePorts.Loopback(3), _ => SecureRing.Options().Secure(secret, tls));
        var world = results.Select(r => (ICollective)(r.Comm ?? throw new Xunit.Sdk.XunitException($"rank failed: {r.Error}"))).ToArray();
        try { SecureRing.AssertAllReduceWorks(world); }
        finally { CollectiveWorlds.DisposeAll(world); }
    }

    [Fact]
    public void ShortOrMissingSecretsAreClearErrors()
    {
        Assert.Contains("at least 16", Assert.Throws<ArgumentException>(() => ClusterSecret.FromText("short")).Message);
        Assert.Throws<FileNotFoundException>(() => ClusterSecret.FromFile("/nonexistent/secret"));
        Assert.Throws<FileNotFoundException>(() => TlsCredentials.FromPemFiles("/nonexistent.crt", "/nonexistent.key", "/ca.crt"));
    }
}
