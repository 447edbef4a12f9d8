using System.Collections.Concurrent;
using System.Runtime.Serialization;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Security;
using ActorFace.Actors.Tests.Monitoring;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using MessagePack;

namespace ActorFace.Actors.Tests.Security;

/// <summary>A type whose construction would show that a payload was instantiated from a type name on the wire.</summary>
public sealed class Canary
{
    public static int Created;
    public Canary() => Interlocked.Increment(ref Created);
    public string Payload { get; set; } = "boom";
}

/// <summary>A message only the attacker's system knows.</summary>
public sealed record RogueMessage(string Manifest, byte[] Bytes);

/// <summary>The attacker's serializer: claims the monitoring serializer's id and sends arbitrary manifests/bytes.</summary>
public sealed class RogueSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => MonitoringSerializer.SerializerId;
    public override string Manifest(object o) => o is RogueMessage r ? r.Manifest : "W";
    public override byte[] ToBinary(object obj) => obj is RogueMessage r ? r.Bytes : MonitoringSerializer.Serialize((IMonitorMetric)obj);
    public override object FromBinary(byte[] bytes, string manifest) => throw new NotSupportedException();
}

/// <summary>
/// Remote messages use explicit MessagePack contracts: an unknown manifest or a typeless payload naming a CLR type is
/// rejected and logged by the receiving node, never instantiated, and the association keeps working.
/// </summary>
public class WireContractTests
{
    static Config Node => ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """).WithFallback(MonitoringConfig.Default);

    static Config Attacker => ConfigurationFactory.ParseString("""
        akka.actor.serializers.actorface-monitoring = "ActorFace.Actors.Tests.Security.RogueSerializer, ActorFace.Actors.Tests"
        akka.actor.serialization-bindings { "ActorFace.Actors.Tests.Security.RogueMessage, ActorFace.Actors.Tests" = actorface-monitoring }
        akka.actor.serialization-identifiers { "ActorFace.Actors.Tests.Security.RogueSerializer, ActorFace.Actors.Tests" = 471 }
        """).WithFallback(Node);

    public sealed class Sink : ReceiveActor
    {
        public Sink(ConcurrentQueue<object> received) => ReceiveAny(received.Enqueue);
    }

    static byte[] TypelessCanary()
    {
        var bytes = MessagePackSerializer.Typeless.Serialize(new Canary()); // carries "…Canary, ActorFace.Actors.Tests"
        Assert.Contains("Canary", System.Text.Encoding.UTF8.GetString(bytes));
        return bytes;
    }

    [Fact]
    public async Task AkkasJsonFallbackCannotBeUsedToInstantiateTypes()
    {
        // The attacker keeps Akka's default: an unbound type travels as Newtonsoft JSON with its type name.
        var receiver = ActorSystem.Create("receiver", StrictSerialization.Config.WithFallback(Node));
        var attacker = ActorSystem.Create("attacker", Node);
        try
        {
            var waitForLog = LogCapture.Attach(receiver);
            var received = new ConcurrentQueue<object>();
            receiver.ActorOf(Props.Create(() => new Sink(received)), "sink");
            var address = ((ExtendedActorSystem)receiver).Provider.DefaultAddress;
            var sink = await attacker.ActorSelection(new RootActorPath(address) / "user" / "sink").ResolveOne(TimeSpan.FromSeconds(10));
            var canary = new Canary();
            var created = Volatile.Read(ref Canary.Created);
            sink.Tell(canary);
            Assert.NotNull(await waitForLog(l => l.Contains("JSON fallback serializer"), TimeSpan.FromSeconds(20)));
            sink.Tell("a string still arrives"); // primitives have their own serializer
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (received.IsEmpty && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal("a string still arrives", Assert.Single(received));
            Assert.Equal(created, Volatile.Read(ref Canary.Created));

            // ... and a strict sender refuses to send an unbound type at all.
            Assert.ThrowsAny<SerializationException>(() => receiver.Serialization.FindSerializerFor(canary).ToBinary(canary));
        }
        finally
        {
            await Task.WhenAll(attacker.Terminate(), receiver.Terminate()).WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public void SerializerRefusesUnknownManifestsAndTypelessPayloads()
    {
        using var system = ActorSystem.Create("wire", Node);
        var serialization = system.Serialization;
        var canary = TypelessCanary();
        var created = Volatile.Read(ref Canary.Created);

        var unknown = Assert.Throws<SerializationException>(() =>
            serialization.Deserialize(canary, MonitoringSerializer.SerializerId, "ActorFace.Actors.Tests.Security.Canary, ActorFace.Actors.Tests"));
        Assert.Contains("unknown manifest", unknown.Message);
        // A known manifest with a typeless payload: read by the fixed WorkerMetrics contract, which it does not fit.
        Assert.ThrowsAny<Exception>(() => serialization.Deserialize(canary, MonitoringSerializer.SerializerId, "W"));
        Assert.Equal(created, Volatile.Read(ref Canary.Created));

        var metrics = SampleMetrics.Worker(0, 5, generation: 1);
        var serializer = serialization.FindSerializerFor(metrics);
        Assert.IsType<MonitoringSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, metrics);
        Assert.Equal("W", manifest);
        var back = (IMonitorMetric)serialization.Deserialize(serializer.ToBinary(metrics), serializer.Identifier, manifest);
        Assert.Equal(MonitoringSerializer.Serialize(metrics), MonitoringSerializer.Serialize(back));
    }

    [Fact]
    public async Task UnknownTypesFromTheWireAreLoggedAndDroppedWhileTheAssociationCarriesOn()
    {
        var receiver = ActorSystem.Create("receiver", Node);
        var attacker = ActorSystem.Create("attacker", Attacker);
        try
        {
            var waitForLog = LogCapture.Attach(receiver);
            var received = new ConcurrentQueue<object>();
            receiver.ActorOf(Props.Create(() => new Sink(received)), "sink");
            var address = ((ExtendedActorSystem)receiver).Provider.DefaultAddress;
            var sink = await attacker.ActorSelection(new RootActorPath(address) / "user" / "sink").ResolveOne(TimeSpan.FromSeconds(10));
            var canary = TypelessCanary();
            var created = Volatile.Read(ref Canary.Created);

            sink.Tell(new RogueMessage("ActorFace.Actors.Tests.Security.Canary, ActorFace.Actors.Tests", canary));
            sink.Tell(new RogueMessage("System.Diagnostics.Process, System.Diagnostics.Process", canary));
            var logged = await waitForLog(l => l.Contains("unknown manifest"), TimeSpan.FromSeconds(20));
            Assert.NotNull(logged);

            var valid = SampleMetrics.Worker(1, 7, generation: 3);
            sink.Tell(valid);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (received.IsEmpty && DateTime.UtcNow < deadline) await Task.Delay(50);
            var arrived = Assert.IsType<WorkerMetrics>(Assert.Single(received));
            Assert.Equal(MonitoringSerializer.Serialize(valid), MonitoringSerializer.Serialize(arrived));
            Assert.Equal(created, Volatile.Read(ref Canary.Created));
        }
        finally
        {
            await Task.WhenAll(attacker.Terminate(), receiver.Terminate()).WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
