namespace ActorFace.Host.Tests;

/// <summary>Tests that run several `actorface` processes go one at a time: two such tests at once on two cores only make
/// each slower and tighten every timeout they rely on. The other tests still run alongside.</summary>
[CollectionDefinition(Name)]
public sealed class RealProcessCollection
{
    public const string Name = "real processes";
}
