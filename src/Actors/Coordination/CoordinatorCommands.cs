using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Actors.Coordination;

/// <summary>What <see cref="CoordinatorState"/> asks its actor to do; executed in order.</summary>
public abstract record CoordinatorCommand;

public sealed record SendToNode(string NodeId, object Message) : CoordinatorCommand;

/// <summary>Write the manifest of a step every rank has saved (atomically), then prune old checkpoints.</summary>
public sealed record WriteManifest(CheckpointManifest Manifest) : CoordinatorCommand;

public sealed record StartRegroupTimer : CoordinatorCommand;

public sealed record CancelRegroupTimer : CoordinatorCommand;

/// <summary>Start the deadline for the nodes to confirm an abort (twice `cluster.abort_timeout`).</summary>
public sealed record StartAbortTimer(int Generation) : CoordinatorCommand;

/// <summary>Take a node out of the cluster (Akka downing): it stopped answering while its process stays a member.</summary>
public sealed record DownNode(string NodeId) : CoordinatorCommand;

/// <summary>A log line, also published to monitors as a cluster event of <c>Kind</c>.</summary>
public sealed record Log(string Message, ClusterEventKind Kind = ClusterEventKind.Info) : CoordinatorCommand;

/// <summary>The job is over; tell every node (they shut their processes down).</summary>
public sealed record EndJob(bool Success, string Message, long Step) : CoordinatorCommand;

/// <summary>A fresh job (no resume) in an output folder that holds checkpoints of an earlier job: remove them so that
/// a later restart can never pick up a stale manifest.</summary>
public sealed record ClearCheckpoints : CoordinatorCommand;

/// <summary>Start the stop deadline (stop_grace_period) of a graceful stop.</summary>
public sealed record StartStopTimer : CoordinatorCommand;
