using MessagePack;

namespace ActorFace.Actors.Protocol;

// A graceful stop (SIGTERM / SIGINT): any node asks, the coordinator picks a step every rank can still reach, the ranks
// checkpoint there, and the job ends with that checkpoint. The ranks of a world run in lock step (every step has
// collectives), so the coordinator asks the nodes where their ranks are and stops them a little ahead of the furthest.

/// <summary>This node's process got a stop signal (<c>Reason</c>, e.g. "SIGTERM"); node -> coordinator.</summary>
[MessagePackObject]
public sealed record StopRequested([property: Key(0)] string NodeId, [property: Key(1)] string Reason) : IWireMessage;

/// <summary>Where are your ranks? Coordinator -> nodes of the generation; answered at once by the node (it reads its
/// ranks' progress stamps, so a rank busy in a step does not delay the answer).</summary>
[MessagePackObject]
public sealed record ReportPosition([property: Key(0)] int Generation) : IWireMessage;

/// <summary>The furthest step any of the node's ranks has completed (at least the generation's start step).</summary>
[MessagePackObject]
public sealed record NodePosition([property: Key(0)] int Generation, [property: Key(1)] string NodeId, [property: Key(2)] long Step) : IWireMessage;

/// <summary>End the current lease after global step <c>Step</c> with a checkpoint (the lease can only get shorter).</summary>
[MessagePackObject]
public sealed record StopAt([property: Key(0)] int Generation, [property: Key(1)] long Step) : IWireMessage;

/// <summary>A rank could not write its part of the checkpoint of <c>Step</c> (disk full, permission); its temporary
/// files are removed and the previous checkpoint is untouched. The coordinator ends the job or, with
/// checkpoint_failure = continue, trains on without that checkpoint.</summary>
[MessagePackObject]
public sealed record CheckpointFailed([property: Key(0)] int Generation, [property: Key(1)] int Rank, [property: Key(2)] long Step,
    [property: Key(3)] string Reason) : IWireMessage;
