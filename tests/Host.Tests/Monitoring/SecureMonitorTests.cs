using ActorFace.Actors.Security;
using ActorFace.Host.Monitoring;
using Akka.Actor;
using Akka.Cluster;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>`actorface monitor` on a cluster protected by a secret: admitted with the secret, refused without.</summary>
public sealed class SecureMonitorTests
{
    static async Task<bool> JoinsWithin(ActorSystem system, TimeSpan timeout)
    {
        var up = new TaskCompletionSource();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        return await Task.WhenAny(up.Task, Task.Delay(timeout)) == up.Task;
    }

    [Fact]
    public async Task AMonitorNeedsTheClusterSecret()
    {
        var secret = ClusterSecret.Generate();
        using var training = new ClusterSecurity(secret, null, allowInsecure: false);
        var seed = training.CreateSystem("actorface", MonitorNode.ClusterConfig("127.0.0.1", 0, ["worker"], [], "OFF"));
        using var monitorSecurity = new ClusterSecurity(secret, null, allowInsecure: false);
        ActorSystem? monitor = null, stranger = null;
        try
        {
            var address = Cluster.Get(seed).SelfAddress;
            Assert.Equal("akka.ssl.tcp", address.Protocol);
            await Cluster.Get(seed).JoinAsync(address).WaitAsync(TimeSpan.FromSeconds(20));
            var userSeed = new Address("akka.tcp", address.System, address.Host, address.Port).ToString(); // as users write it

            stranger = MonitorNode.Start("actorface", "127.0.0.1", 0, [userSeed], "OFF");
            monitor = MonitorNode.Start("actorface", "127.0.0.1", 0, [userSeed], "OFF", monitorSecurity);
            Assert.True(await JoinsWithin(monitor, TimeSpan.FromSeconds(20)), "the monitor with the secret did not join");
            Assert.False(await JoinsWithin(stranger, TimeSpan.FromSeconds(3)), "a monitor without the secret joined");
            Assert.Equal(2, Cluster.Get(seed).State.Members.Count(m => m.Status == MemberStatus.Up));
        }
        finally
        {
            await Task.WhenAll(new[] { monitor, stranger, seed }.OfType<ActorSystem>().Select(s => s.Terminate())).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
