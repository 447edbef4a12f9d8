using ActorFace.Actors.Coordination;
using Akka.Actor;
using MessagePack;

namespace ActorFace.Actors.Protocol;

/// <summary>Marker of the control messages that cross nodes; bound to the MessagePack serializer (Serialization/).</summary>
public interface IWireMessage;

/// <summary>What a worker does when it reaches the end of its lease.</summary>
public enum LeaseAction
{
    /// <summary>Save a checkpoint of the lease's last step, ack, wait for the next lease.</summary>
    Checkpoint = 0,
    /// <summary>The schedule is done: final checkpoint, backbone.pth, evaluation, report finished.</summary>
    Finish = 1,
    /// <summary>max_steps reached: write backbone.pth and stop without a checkpoint.</summary>
    Halt = 2,
}

// ---- worker node -> coordinator -----------------------------------------------------------------------

/// <summary>
/// A process offers its ranks. Endpoints: one TCP collective endpoint (host:port) per local slot.
/// LastGeneration: the newest generation this node took part in (0 = none); a coordinator that sees a non-zero
/// value is the successor of one that died (singleton hand-over) and continues the job instead of starting afresh.
/// NcclUnavailable: empty when NCCL can run here (device = cuda, CUDA usable, libnccl loads), else why not.
/// </summary>
[MessagePackObject]
public sealed record RegisterNode(
    [property: Key(0)] IActorRef Node,
    [property: Key(1)] string NodeId,
    [property: Key(2)] string[] Endpoints,
    [property: Key(3)] long DatasetCount,
    [property: Key(4)] string SettingsFingerprint,
    [property: Key(5)] int LastGeneration,
    [property: Key(6)] string NcclUnavailable = "not probed") : IWireMessage;

/// <summary>The node has stopped its ranks of the generation and released their collectives.</summary>
[MessagePackObject]
public sealed record GenerationAborted([property: Key(0)] int Generation, [property: Key(1)] string NodeId) : IWireMessage;

[MessagePackObject]
public sealed record CheckpointSaved([property: Key(0)] int Generation, [property: Key(1)] int Rank, [property: Key(2)] long Step) : IWireMessage;

[MessagePackObject]
public sealed record RankFinished([property: Key(0)] int Generation, [property: Key(1)] int Rank, [property: Key(2)] long Step) : IWireMessage;

[MessagePackObject]
public sealed record RankFailed([property: Key(0)] int Generation, [property: Key(1)] int Rank, [property: Key(2)] string Reason) : IWireMessage;

/// <summary>Rank 0's log line, every `frequent` steps.</summary>
[MessagePackObject]
public sealed record TrainingProgress(
    [property: Key(0)] int Generation,
    [property: Key(1)] long Step,
    [property: Key(2)] int Epoch,
    [property: Key(3)] double Loss,
    [property: Key(4)] double LearningRate,
    [property: Key(5)] double SamplesPerSecond,
    [property: Key(6)] long TotalStep) : IWireMessage;

// ---- coordinator -> worker node -----------------------------------------------------------------------

[MessagePackObject]
public sealed record NodeAccepted([property: Key(0)] string NodeId, [property: Key(1)] bool Standby) : IWireMessage;

[MessagePackObject]
public sealed record NodeRejected([property: Key(0)] string NodeId, [property: Key(1)] string Reason) : IWireMessage;

/// <summary>Rank <c>Rank</c> runs on slot <c>Slot</c> of node <c>NodeId</c> and listens on <c>Endpoint</c>.</summary>
[MessagePackObject]
public sealed record RankSlot([property: Key(0)] int Rank, [property: Key(1)] string NodeId, [property: Key(2)] int Slot,
    [property: Key(3)] string Endpoint);

/// <summary>
/// A new world: ranks, collective rendezvous, its step plan (derived once, by the coordinator), where to resume from
/// (a manifest path, empty = fresh start), how many steps are already done, and the first lease. Nccl: the ranks build an NCCL communicator from the unique id
/// that rank 0 sends the coordinator and the coordinator relays (<see cref="NcclUniqueId"/>); LocalCollective and
/// neither: a TCP ring between the ranks' endpoints.
/// </summary>
[MessagePackObject]
public sealed record StartGeneration(
    [property: Key(0)] int Generation,
    [property: Key(1)] RankSlot[] Ranks,
    [property: Key(2)] bool LocalCollective,
    [property: Key(3)] StepPlan Plan,
    [property: Key(4)] string ResumeManifest,
    [property: Key(5)] long StartStep,
    [property: Key(6)] long LeaseStep,
    [property: Key(7)] LeaseAction LeaseAction,
    [property: Key(8)] bool Nccl = false) : IWireMessage
{
    [IgnoreMember] public int WorldSize => Ranks.Length;
}

/// <summary>
/// The NCCL rendezvous token of a generation: rank 0's GpuWorker → coordinator, then coordinator → every node of the
/// generation, which hands it to its ranks. A token of another generation is ignored everywhere, so a straggler of an
/// aborted world can never join the new communicator. NCCL has no authentication or encryption: the token lets any
/// process that holds it join (docs/security.md).
/// </summary>
[MessagePackObject]
public sealed record NcclUniqueId([property: Key(0)] int Generation, [property: Key(1)] byte[] Id) : IWireMessage;

/// <summary>Run until global step <c>Step</c>, then do <c>Action</c>.</summary>
[MessagePackObject]
public sealed record RunUntil([property: Key(0)] int Generation, [property: Key(1)] long Step, [property: Key(2)] LeaseAction Action) : IWireMessage;

[MessagePackObject]
public sealed record AbortGeneration([property: Key(0)] int Generation, [property: Key(1)] string Reason) : IWireMessage;

/// <summary>The job is over (Success: schedule done or max_steps reached); every process shuts down.</summary>
[MessagePackObject]
public sealed record TrainingEnded([property: Key(0)] bool Success, [property: Key(1)] string Message, [property: Key(2)] long Step) : IWireMessage;
