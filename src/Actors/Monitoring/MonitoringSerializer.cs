using Akka.Actor;
using Akka.Serialization;
using System.Runtime.Serialization;
using MessagePack;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// MessagePack wire format for every <see cref="IMonitorMetric"/> (bound in <see cref="MonitoringConfig"/>), so the
/// records' [Key] contracts, not CLR type names, define what crosses the network.
/// </summary>
public sealed class MonitoringSerializer : SerializerWithStringManifest
{
    public const int SerializerId = 471;

    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(WorkerMetrics)] = "W",
        [typeof(LoaderMetrics)] = "L",
        [typeof(ShardMetrics)] = "S",
        [typeof(VerificationMetrics)] = "V",
        [typeof(CoordinatorMetrics)] = "C",
        [typeof(ClusterEvent)] = "E",
        [typeof(ActorSystemStats)] = "A",
    };

    private static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    public MonitoringSerializer(ExtendedActorSystem system) : base(system) { }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"MonitoringSerializer: {o.GetType().FullName} is not a monitoring record");

    public override byte[] ToBinary(object obj) => MessagePackSerializer.Serialize(obj.GetType(), obj, Options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"MonitoringSerializer: unknown manifest '{manifest}'");
        return MessagePackSerializer.Deserialize(type, bytes, Options)
               ?? throw new SerializationException($"MonitoringSerializer: empty {type.Name} record");
    }

    /// <summary>The same bytes as on the wire, without an actor system (tests, logs).</summary>
    public static byte[] Serialize(IMonitorMetric metric) => MessagePackSerializer.Serialize(metric.GetType(), metric, Options);

    public static T Deserialize<T>(byte[] bytes) where T : IMonitorMetric => MessagePackSerializer.Deserialize<T>(bytes, Options);
}
