using System.Net;
using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Model.Tests.Communication.Security;

public sealed class NetworkExposureTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("localhost", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("node-a.example", false)]
    public void LoopbackIsRecognised(string host, bool loopback) => Assert.Equal(loopback, NetworkExposure.IsLoopback(host));

    [Fact]
    public void NonLoopbackNeedsTheExplicitOptIn()
    {
        NetworkExposure.Require("Akka.Remote", "127.0.0.1", allowed: false, "--hostname");
        NetworkExposure.Require("Akka.Remote", "10.0.0.5", allowed: true, "--hostname");
        var e = Assert.Throws<ArgumentException>(() => NetworkExposure.Require("Akka.Remote", "0.0.0.0", allowed: false, "cluster.allow-remote"));
        Assert.Contains("cluster.allow-remote", e.Message);
    }

    [Fact]
    public void LogLinesSayWhatIsExposedAndHow()
    {
        Assert.Contains("loopback only", NetworkExposure.Describe("HTTP monitor", "127.0.0.1", 9100, false, false));
        Assert.StartsWith("WARNING", NetworkExposure.Describe("HTTP monitor", "0.0.0.0", 9100, false, false));
        Assert.Contains("NO authentication", NetworkExposure.Describe("HTTP monitor", "0.0.0.0", 9100, false, false));
        Assert.DoesNotContain("WARNING", NetworkExposure.Describe("Akka.Remote", "10.0.0.5", 4053, true, true));
    }

    [Fact]
    public void UnprotectedCollectiveAcrossMachinesIsRefusedUnlessAllowed()
    {
        var remote = new[] { new IPEndPoint(IPAddress.Parse("10.0.0.5"), 29500), new IPEndPoint(IPAddress.Parse("10.0.0.6"), 29500) };
        Assert.Throws<ArgumentException>(() => NetworkExposure.CheckCollective(remote, false, false, allowInsecure: false));
        Assert.Equal(2, NetworkExposure.CheckCollective(remote, false, true, allowInsecure: false).Count);
        Assert.All(NetworkExposure.CheckCollective(FreePorts.Loopback(2), false, false, false), l => Assert.Contains("loopback only", l));
    }

    [Fact]
    public void SecureSetsBothHooks()
    {
        using var tls = TlsCredentials.FromClusterSecret(ClusterSecret.Generate());
        var options = new TcpCollectiveOptions().Secure(ClusterSecret.Generate(), tls);
        Assert.NotNull(options.Authenticate);
        Assert.NotNull(options.WrapStream);
        Assert.Null(new TcpCollectiveOptions().Secure(null, null).Authenticate);
    }

    [Fact]
    public void NcclAcrossMachinesNeedsTheInsecureOptInBecauseNcclIsNeverProtected()
    {
        var local = new[] { IPEndPoint.Parse("127.0.0.1:5000"), IPEndPoint.Parse("127.0.0.1:5001") };
        Assert.Contains("nothing exposed", NetworkExposure.CheckNccl(local, allowInsecure: false));
        var spread = new[] { IPEndPoint.Parse("10.0.0.5:5000"), IPEndPoint.Parse("10.0.0.6:5000") };
        var refused = Assert.Throws<ArgumentException>(() => NetworkExposure.CheckNccl(spread, allowInsecure: false));
        Assert.Contains("10.0.0.5, 10.0.0.6", refused.Message);
        Assert.Contains("collective = tcp", refused.Message);
        Assert.StartsWith("WARNING: NCCL collective across 10.0.0.5, 10.0.0.6: NO encryption", NetworkExposure.CheckNccl(spread, allowInsecure: true));
    }
}
