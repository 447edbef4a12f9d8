using ActorFace.Actors.Monitoring;
using Akka.Actor;
using Akka.Configuration;

namespace ActorFace.Actors.Tests.Monitoring;

public class MonitoringSerializerTests
{
    public static TheoryData<IMonitorMetric> Records() =>
    [
        SampleMetrics.Worker(1, 42),
        new LoaderMetrics("n", 1, 3, 4, 812.5, 7, 11),
        new LoaderMetrics("n", 1, 3, 4, 812.5, 7, 11, Epoch: 2, InFlight: 1, BatchesDelivered: 40, SamplesDecoded: 5120, ConsumerWaitSeconds: 0.25),
        new ShardMetrics("n", 1, 5000, 5000, 1000, 10_240_000, 12),
        new VerificationMetrics("n", "lfw", 42, 0.9, 0.91, 13),
        SampleMetrics.Coordinator(4),
        SampleMetrics.Recovery(4),
        new ActorSystemStats("n", [new ActorCount("/user/a", 2)], [new ActorCount("/user/b", 5)], 9, 14),
    ];

    [Theory]
    [MemberData(nameof(Records))]
    public void EveryRecordRoundTripsThroughTheAkkaBinding(IMonitorMetric record)
    {
        using var system = ActorSystem.Create("ser", MonitoringConfig.Default);
        var serializer = system.Serialization.FindSerializerFor(record);
        Assert.IsType<MonitoringSerializer>(serializer);

        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, record);
        var back = system.Serialization.Deserialize(serializer.ToBinary(record), serializer.Identifier, manifest);

        // Records holding lists compare by reference, so compare their JSON forms.
        Assert.Equal(record.GetType(), back.GetType());
        Assert.Equal(
            System.Text.Json.JsonSerializer.Serialize(record, record.GetType(), MonitorSnapshotJson.Options),
            System.Text.Json.JsonSerializer.Serialize(back, back.GetType(), MonitorSnapshotJson.Options));
    }

    [Fact]
    public void KeysAreTheWireContract()
    {
        var bytes = MonitoringSerializer.Serialize(new ShardMetrics("n", 1, 3, 4, 2, 7, 11));

        // A MessagePack array of 7 elements in key order: the node name comes first, the timestamp last.
        Assert.Equal(0x97, bytes[0]);
        Assert.Equal((byte)0xa1, bytes[1]);
        Assert.Equal((byte)'n', bytes[2]);
        Assert.Equal(11, bytes[^1]);
    }

    [Fact]
    public void LoaderMetricsKeysWereAppendedSoTheFirstSevenStillRead()
    {
        var full = new LoaderMetrics("n", 1, 3, 4, 2.5, 7, 11, Epoch: 5, InFlight: 2, BatchesDelivered: 9, SamplesDecoded: 36, ConsumerWaitSeconds: 0.5);
        var bytes = MonitoringSerializer.Serialize(full);
        Assert.Equal(0x9c, bytes[0]); // 12 elements

        // The record as a sender from before the appended keys wrote it: 7 elements.
        var old = MessagePack.MessagePackSerializer.Serialize(new object[] { "n", 1, 3, 4, 2.5, 7L, 11L });
        var back = MonitoringSerializer.Deserialize<LoaderMetrics>(old);
        Assert.Equal(full with { Epoch = 0, InFlight = 0, BatchesDelivered = 0, SamplesDecoded = 0, ConsumerWaitSeconds = 0 }, back);
    }

    [Fact]
    public void UnknownManifestIsAClearError()
    {
        using var system = ActorSystem.Create("ser2", MonitoringConfig.Default);
        var serializer = new MonitoringSerializer((ExtendedActorSystem)system);

        var ex = Assert.ThrowsAny<Exception>(() => serializer.FromBinary([0x90], "Z"));
        Assert.Contains("unknown manifest 'Z'", ex.Message);
    }
}
