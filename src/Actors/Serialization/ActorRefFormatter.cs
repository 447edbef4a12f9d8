using Akka.Actor;
using MessagePack;
using MessagePack.Formatters;

namespace ActorFace.Actors.Serialization;

/// <summary>IActorRef on the wire as its full path (with address), resolved back through the local provider.</summary>
internal sealed class ActorRefFormatter(ExtendedActorSystem system) : IMessagePackFormatter<IActorRef?>
{
    public void Serialize(ref MessagePackWriter writer, IActorRef? value, MessagePackSerializerOptions options)
    {
        if (value is null)
            writer.WriteNil();
        else
            writer.Write(Akka.Serialization.Serialization.SerializedActorPath(value));
    }

    public IActorRef? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        var path = reader.ReadString()!;
        return system.Provider.ResolveActorRef(path);
    }
}
