using ActorFace.Actors.Security;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Actors.Tests.Security;

/// <summary>Real actor systems on loopback with Akka.Remote over mutual TLS whose key comes from the cluster secret.</summary>
public class ClusterTlsTests
{
    static Config NodeConfig => ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.gossip-interval = 200ms
        akka.cluster.periodic-tasks-initial-delay = 0s
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """).WithFallback(StrictSerialization.Config); // the cluster runs with the JSON fallback closed

    public sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    [Fact]
    public async Task NodeWithAnotherSecretCannotJoinAndTheClusterCarriesOn()
    {
        var secret = ClusterSecret.Generate();
        using var good = TlsCredentials.FromClusterSecret(secret);
        using var alsoGood = TlsCredentials.FromClusterSecret(secret);
        using var wrong = TlsCredentials.FromClusterSecret(ClusterSecret.Generate());
        var seed = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, good);
        var member = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, alsoGood);
        var intruder = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, wrong);
        var plain = ActorSystem.Create("actorface", NodeConfig); // no TLS at all
        try
        {
            var waitForSeedLog = LogCapture.Attach(seed);
            var seedAddress = Cluster.Get(seed).SelfAddress;
            await Cluster.Get(seed).JoinAsync(seedAddress).WaitAsync(TimeSpan.FromSeconds(20));
            await Cluster.Get(member).JoinAsync(seedAddress).WaitAsync(TimeSpan.FromSeconds(20));
            seed.ActorOf(Props.Create(() => new Echo()), "echo");

            Cluster.Get(intruder).Join(seedAddress);
            Cluster.Get(plain).Join(seedAddress);
            var refusal = await waitForSeedLog(l => l.Contains("was not made from this cluster's secret"), TimeSpan.FromSeconds(20));
            Assert.NotNull(refusal);
            await Task.Delay(TimeSpan.FromSeconds(2)); // more join attempts in flight: they must fail as well

            Assert.Equal(2, Cluster.Get(seed).State.Members.Count);
            Assert.All(Cluster.Get(seed).State.Members, m => Assert.Equal(MemberStatus.Up, m.Status));
            Assert.DoesNotContain(Cluster.Get(intruder).State.Members, m => m.Status == MemberStatus.Up);
            Assert.DoesNotContain(Cluster.Get(plain).State.Members, m => m.Status == MemberStatus.Up);

            // The running cluster is unaffected: the member still reaches the seed's actors over TLS ...
            var echo = await member.ActorSelection(new RootActorPath(seedAddress) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(10));
            Assert.Equal("still here", await echo.Ask<string>("still here", TimeSpan.FromSeconds(10)));
            // ... and nobody without the secret does.
            await Assert.ThrowsAnyAsync<Exception>(() =>
                intruder.ActorSelection(new RootActorPath(seedAddress) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(3)));
        }
        finally
        {
            await Task.WhenAll(plain.Terminate(), intruder.Terminate(), member.Terminate(), seed.Terminate()).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task NodeWithACertificateOfAnotherCaCannotJoinACertificateCluster()
    {
        using var certs = new TestCertificates();
        var ca = certs.CreateCa("cluster-ca");
        TlsCredentials Load(TestCertificates.NodeFiles f) => TlsCredentials.FromPemFiles(f.Certificate, f.Key, f.Ca);
        using var seedCreds = Load(certs.IssueNode(ca, "seed"));
        using var memberCreds = Load(certs.IssueNode(ca, "member"));
        using var rogueCreds = Load(certs.IssueNode(certs.CreateCa("rogue-ca"), "rogue"));
        var seed = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, seedCreds);
        var member = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, memberCreds);
        var rogue = AkkaRemoteTls.CreateSystem("actorface", NodeConfig, rogueCreds);
        try
        {
            var waitForSeedLog = LogCapture.Attach(seed);
            var seedAddress = Cluster.Get(seed).SelfAddress;
            Assert.Equal("akka.ssl.tcp", seedAddress.Protocol);
            await Cluster.Get(seed).JoinAsync(seedAddress).WaitAsync(TimeSpan.FromSeconds(20));
            await Cluster.Get(member).JoinAsync(seedAddress).WaitAsync(TimeSpan.FromSeconds(20));
            Cluster.Get(rogue).Join(seedAddress);
            var refusal = await waitForSeedLog(l => l.Contains("certificate CN=rogue does not chain to the pinned CA"), TimeSpan.FromSeconds(20));
            Assert.NotNull(refusal);
            Assert.Equal(2, Cluster.Get(seed).State.Members.Count);
            Assert.DoesNotContain(Cluster.Get(rogue).State.Members, m => m.Status == MemberStatus.Up);
        }
        finally
        {
            await Task.WhenAll(rogue.Terminate(), member.Terminate(), seed.Terminate()).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void HoconForCertificateFilesUsesAkkasSslKeys()
    {
        var pfx = Path.GetTempFileName();
        try
        {
            var config = AkkaRemoteTls.Hocon(pfx, "pa\"ss");
            Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
            Assert.Equal(pfx, config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path"));
            Assert.Equal("pa\"ss", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.password"));
            Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.ssl.suppress-validation"));
            Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.ssl.require-mutual-authentication"));
        }
        finally
        {
            File.Delete(pfx);
        }
        Assert.Throws<FileNotFoundException>(() => AkkaRemoteTls.Hocon("/nonexistent.pfx", ""));
    }
}
