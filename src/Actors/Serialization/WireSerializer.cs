using ActorFace.Actors.Protocol;
using Akka.Actor;
using Akka.Serialization;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace ActorFace.Actors.Serialization;

/// <summary>
/// MessagePack for every <see cref="IWireMessage"/> (bound in <see cref="WireSerializer.Hocon"/>). The manifest is
/// the record's short type name, so renaming a record is a wire change (and caught by the round-trip tests).
/// </summary>
public sealed class WireSerializer : SerializerWithStringManifest
{
    public const int SerializerId = 4107;

    public const string Hocon = """
        akka.actor {
          serializers.actorface-wire = "ActorFace.Actors.Serialization.WireSerializer, ActorFace.Actors"
          serialization-bindings { "ActorFace.Actors.Protocol.IWireMessage, ActorFace.Actors" = actorface-wire }
          serialization-identifiers { "ActorFace.Actors.Serialization.WireSerializer, ActorFace.Actors" = 4107 }
        }
        """;

    private static readonly Dictionary<string, Type> Types = typeof(IWireMessage).Assembly.GetTypes()
        .Where(t => typeof(IWireMessage).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
        .ToDictionary(t => t.Name);

    private readonly MessagePackSerializerOptions _options;

    public WireSerializer(ExtendedActorSystem system) : base(system)
    {
        var resolver = CompositeResolver.Create([new ActorRefFormatter(system)], [StandardResolver.Instance]);
        _options = MessagePackSerializerOptions.Standard.WithResolver(resolver).WithSecurity(MessagePackSecurity.UntrustedData);
    }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o.GetType().Name;

    public override byte[] ToBinary(object obj) => MessagePackSerializer.Serialize(obj.GetType(), obj, _options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new System.Runtime.Serialization.SerializationException($"unknown ActorFace wire message '{manifest}'");
        return MessagePackSerializer.Deserialize(type, bytes, _options)!;
    }
}
