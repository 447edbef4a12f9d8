using ActorFace.Actors.Protocol;
using ActorFace.Actors.Settings;
using Akka.Actor;
using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Workers;

/// <summary>What a <see cref="GpuWorker"/> is created with: one rank of one generation.</summary>
public sealed record RankLaunch(
    TrainingSettings Settings,
    RankServices Services,
    StartGeneration Generation,
    RankSlot Slot,
    IActorRef Coordinator,
    CollectiveSlot Collective,
    RankWatch Watch,
    ICollective? LocalCollective,
    TextWriter? Console)
{
    public int Rank => Slot.Rank;
    /// <summary>Where a graceful stop ends this rank's lease (set by its node).</summary>
    public StopTarget Stop { get; init; } = new();
    public int WorldSize => Generation.WorldSize;
}
