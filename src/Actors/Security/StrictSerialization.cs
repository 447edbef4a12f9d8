using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace ActorFace.Actors.Security;

/// <summary>
/// Closes Akka's fallback serializer. Out of the box every actor system registers Newtonsoft.Json (serializer id 1,
/// bound to System.Object) with type names in the payload, so a remote peer can send id 1 with a "$type" and have the
/// receiver construct any loadable type. ActorFace binds every remote message explicitly (MessagePack contracts), so
/// id 1 is replaced by <see cref="RefusingJsonSerializer"/> and unbound types fail at the sender.
/// Include <see cref="Config"/> in every actor system (before the defaults).
/// </summary>
public static class StrictSerialization
{
    public const string Hocon = """
        akka.actor {
          serializers.json = "ActorFace.Actors.Security.RefusingJsonSerializer, ActorFace.Actors"
          serialization-identifiers { "ActorFace.Actors.Security.RefusingJsonSerializer, ActorFace.Actors" = 1 }
          # a message type without an explicit binding is a programming error, not something to send as JSON
          serialization-settings.allow-unregistered-types = false
        }
        """;

    public static Config Config => ConfigurationFactory.ParseString(Hocon);
}

/// <summary>Takes serializer id 1 (Akka's JSON fallback) and refuses both directions, naming the type.</summary>
public sealed class RefusingJsonSerializer : Serializer
{
    public RefusingJsonSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>Akka passes the serializer's settings section (serialization-settings.json) when one exists.</summary>
    public RefusingJsonSerializer(ExtendedActorSystem system, Config settings) : base(system) { }

    public override int Identifier => 1;
    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException(
            $"{obj.GetType().FullName} has no explicit serializer binding; ActorFace sends only MessagePack contract messages " +
            "(bind it to the wire serializer) — the JSON fallback is disabled (docs/security.md)");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException(
            $"refused a {bytes.Length}-byte message for Akka's JSON fallback serializer (id 1): type names from the wire are never instantiated");
}
