using System.Runtime.Serialization;
using System.Text.Json;
using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Serialization;
using Akka.Actor;
using Akka.Configuration;
using MessagePack;
using Xunit.Abstractions;

namespace ActorFace.Actors.Tests.Security;

/// <summary>The runtime's wire serializer and checkpoint manifests against unknown types and mutated input.</summary>
public class RuntimeFormatsSecurityTests(ITestOutputHelper output) : IDisposable
{
    readonly TempDirectory dir = new("actorface-fuzz-manifest-");

    public void Dispose() => dir.Dispose();

    [Fact]
    public void WireSerializerRefusesUnknownManifestsAndNeverInstantiatesWireTypeNames()
    {
        using var system = ActorSystem.Create("wire", ConfigurationFactory.ParseString(WireSerializer.Hocon));
        var canary = MessagePackSerializer.Typeless.Serialize(new Canary());
        var created = Volatile.Read(ref Canary.Created);
        foreach (var manifest in new[] { "Canary", typeof(Canary).AssemblyQualifiedName!, "System.Diagnostics.Process" })
            Assert.Throws<SerializationException>(() => system.Serialization.Deserialize(canary, WireSerializer.SerializerId, manifest));
        // A known manifest with a typeless payload is read by that record's fixed contract, which it does not fit.
        Assert.ThrowsAny<Exception>(() => system.Serialization.Deserialize(canary, WireSerializer.SerializerId, nameof(RankFailed)));
        Assert.Equal(created, Volatile.Read(ref Canary.Created));

        var message = new RankFailed(3, 1, "worker crashed");
        var serializer = system.Serialization.FindSerializerFor(message);
        Assert.IsType<WireSerializer>(serializer);
        var back = system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, nameof(RankFailed));
        Assert.Equal(message, back);
    }

    [Fact]
    public void MutatedWireMessagesDeserializeOrFailWithADocumentedError()
    {
        using var system = ActorSystem.Create("wire", ConfigurationFactory.ParseString(WireSerializer.Hocon));
        var serializer = (WireSerializer)system.Serialization.FindSerializerForType(typeof(RankFailed));
        var seeds = new object[] { new RankFailed(3, 1, "worker crashed"), new CheckpointSaved(2, 0, 1200), new GenerationAborted(4, "node-a") }
            .Select(serializer.ToBinary).ToList();
        var manifests = new[] { nameof(RankFailed), nameof(CheckpointSaved), nameof(GenerationAborted) };
        var report = new MutationFuzzer(seed: 41).Run(seeds, MutationFuzzer.CaseCount(2000), bytes =>
        {
            foreach (var m in manifests)
                try { serializer.FromBinary(bytes, m); }
                catch (MessagePackSerializationException) { }
        }, [typeof(MessagePackSerializationException), typeof(SerializationException)], TimeSpan.FromSeconds(5), maxAllocatedBytes: 64L << 20);
        output.WriteLine($"wire messages: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Fact]
    public void MutatedCheckpointManifestsParseOrFailWithADocumentedError()
    {
        var seed = JsonSerializer.SerializeToUtf8Bytes(new CheckpointManifest
        {
            Step = 1200, Epoch = 3, Generation = 2, WorldSize = 2, BatchSize = 128, NumClasses = 93431, EmbeddingSize = 512,
            Network = "r50", Directory = "step_00001200", CreatedUtc = new DateTime(2026, 11, 28, 9, 0, 0, DateTimeKind.Utc),
        }, new JsonSerializerOptions { WriteIndented = true });
        var path = Path.Combine(dir, "step_00001200.manifest.json");
        var report = new MutationFuzzer(seed: 42).Run([seed], MutationFuzzer.CaseCount(2000), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            CheckpointStore.Read(path);
        }, [typeof(InvalidDataException)], TimeSpan.FromSeconds(5), maxAllocatedBytes: 64L << 20);
        output.WriteLine($"checkpoint manifest: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }
}
