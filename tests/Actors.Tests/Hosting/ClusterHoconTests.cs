using ActorFace.Actors.Hosting;
using ActorFace.Actors.Security;
using ActorFace.Actors.Settings;
using Akka.Configuration;

namespace ActorFace.Actors.Tests.Hosting;

/// <summary>One builder for every cluster node's Akka configuration (issue 15 item 2).</summary>
public sealed class ClusterHoconTests
{
    /// <summary>What StrictSerialization.Config sets, which every actor system must carry.</summary>
    static void AssertStrictSerialization(Config config)
    {
        Assert.Equal("ActorFace.Actors.Security.RefusingJsonSerializer, ActorFace.Actors", config.GetString("akka.actor.serializers.json"));
        Assert.False(config.GetBoolean("akka.actor.serialization-settings.allow-unregistered-types", true));
    }

    [Fact]
    public void EveryNodeCarriesStrictSerializationWireAndMonitoringBindings()
    {
        var node = ClusterHocon.Node(new ClusterNode("127.0.0.1", 4053, [ClusterHocon.MonitorRole])
            { SeedNodes = ["akka.tcp://actorface@127.0.0.1:4054"], LogLevel = "ERROR" });
        AssertStrictSerialization(node);
        Assert.Equal("cluster", node.GetString("akka.actor.provider"));
        Assert.Equal("ERROR", node.GetString("akka.loglevel"));
        Assert.Equal(4053, node.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["monitor"], node.GetStringList("akka.cluster.roles"));
        Assert.Equal(["akka.tcp://actorface@127.0.0.1:4054"], node.GetStringList("akka.cluster.seed-nodes"));
        Assert.True(node.HasPath("akka.actor.serialization-bindings"));
        Assert.Equal("", node.GetString("akka.cluster.pub-sub.role"));
    }

    [Fact]
    public void TrainingNodeIsTheNodeConfigurationPlusTheTrainingBlock()
    {
        var settings = TrainingSettings.Default with
        {
            Output = "/tmp/out \"quoted\" dir",
            Cluster = TrainingSettings.Default.Cluster with { Hostname = "10.0.0.5", Port = 4100, JoinTimeout = TimeSpan.FromSeconds(2.5) },
        };
        var config = ClusterHocon.Build(settings);
        AssertStrictSerialization(config);
        Assert.Equal("10.0.0.5", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4100, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["worker"], config.GetStringList("akka.cluster.roles"));
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes"));
        Assert.Equal("lease-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("/tmp/out \"quoted\" dir/cluster.lease", config.GetString("actorface-file-lease.path"));
        Assert.Equal(typeof(FileLease).AssemblyQualifiedName, config.GetString("actorface-file-lease.lease-class"));
        Assert.Equal("PinnedDispatcher", config.GetString("actorface-worker-dispatcher.type"));
        Assert.Equal("off", config.GetString("akka.coordinated-shutdown.exit-clr"));
    }

    [Fact]
    public void ValuesAreQuotedNotSplicedIntoHocon()
    {
        // A hostname that would end the string and add a key if it were pasted into HOCON text.
        var hostile = "h\" , akka.actor.serialization-settings.allow-unregistered-types = true, x = \"";
        var config = ClusterHocon.Node(new ClusterNode(hostile, 0, ["worker"]));
        Assert.Equal(hostile, config.GetString("akka.remote.dot-netty.tcp.hostname"));
        AssertStrictSerialization(config);
    }
}
