using ActorFace.Actors.Hosting;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>The monitor's actor system comes from the training nodes' builder (issue 15 item 2).</summary>
public sealed class MonitorNodeConfigTests
{
    [Fact]
    public void MonitorConfigHasTheStrictSerializationOfEveryActorSystem()
    {
        var config = MonitorNode.ClusterConfig("127.0.0.1", 0, [ClusterHocon.MonitorRole], ["akka.tcp://actorface@127.0.0.1:4053"], "OFF");
        Assert.Equal("ActorFace.Actors.Security.RefusingJsonSerializer, ActorFace.Actors", config.GetString("akka.actor.serializers.json"));
        Assert.False(config.GetBoolean("akka.actor.serialization-settings.allow-unregistered-types", true));
        Assert.Equal(["akka.tcp://actorface@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["monitor"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("OFF", config.GetString("akka.loglevel"));
    }
}
