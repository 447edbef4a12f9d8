using ActorFace.Actors.Hosting;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ActorFace.Actors.Tests.Serialization;

public sealed class WireSerializerTests() : TestKit(ClusterHocon.Build(TrainingSettings.Default))
{
    [Fact]
    public void EveryWireMessageRoundTripsThroughMessagePack()
    {
        var slots = new[] { new RankSlot(0, "akka.tcp://actorface@127.0.0.1:1", 0, "127.0.0.1:5000"), new RankSlot(1, "n2", 1, "[::1]:5001") };
        IWireMessage[] messages =
        [
            new RegisterNode(TestActor, "n1", ["127.0.0.1:5000"], 6279, "abc", 2, "libnccl.so.2 not found"),
            new GenerationAborted(3, "n1"),
            new CheckpointSaved(1, 2, 300),
            new RankFinished(1, 0, 400),
            new RankFailed(2, 1, "boom"),
            new TrainingProgress(1, 20, 0, 12.5, 0.1, 5300.12, 1000),
            new NodeAccepted("n1", true),
            new NodeRejected("n1", "why"),
            new StartGeneration(2, slots, false, new ActorFace.Actors.Coordination.StepPlan(6279, 2, 128, 20, 5_822_653, 0), "/out/checkpoints/step_00000300.manifest.json", 300, 400, LeaseAction.Finish, Nccl: true),
            new NcclUniqueId(2, Enumerable.Range(0, 128).Select(i => (byte)i).ToArray()),
            new RunUntil(2, 500, LeaseAction.Halt),
            new AbortGeneration(2, "node lost"),
            new TrainingEnded(true, "done", 500),
            new StopRequested("n1", "SIGTERM"),
            new ReportPosition(2),
            new NodePosition(2, "n1", 17),
            new StopAt(2, 19),
            new CheckpointFailed(2, 1, 19, "No space left on device"),
        ];
        var covered = messages.Select(m => m.GetType()).ToHashSet();
        var all = typeof(IWireMessage).Assembly.GetTypes().Where(t => typeof(IWireMessage).IsAssignableFrom(t) && !t.IsInterface);
        Assert.All(all, t => Assert.Contains(t, covered));

        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<ActorFace.Actors.Serialization.WireSerializer>(serializer);
            var bytes = serializer.ToBinary(message);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            var back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
            if (message is StartGeneration s)
            {
                var b = Assert.IsType<StartGeneration>(back);
                Assert.Equal(s with { Ranks = [] }, b with { Ranks = [] });
                Assert.Equal(s.Ranks, b.Ranks);
            }
            else if (message is NcclUniqueId id)
            {
                var b = Assert.IsType<NcclUniqueId>(back);
                Assert.Equal(id.Generation, b.Generation);
                Assert.Equal(id.Id, b.Id);
            }
            else if (message is RegisterNode r)
            {
                var b = Assert.IsType<RegisterNode>(back);
                Assert.Equal(TestActor, b.Node);
                Assert.Equal(r.Endpoints, b.Endpoints);
                Assert.Equal(r with { Endpoints = [] }, b with { Endpoints = [] });
            }
            else
            {
                Assert.Equal(message, back);
            }
        }
    }
}
