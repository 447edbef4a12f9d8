using ActorFace.Actors.Protocol;

namespace ActorFace.Actors.Workers;

/// <summary>What <see cref="RankState"/> asks its <see cref="GpuWorker"/> to do; executed in order.</summary>
public abstract record RankCommand;

/// <summary>The rank completed <c>Step</c> (or got work after being idle) and has more to do: feed the node's watchdog.</summary>
public sealed record ReportProgress(long Step) : RankCommand;

/// <summary>The rank has nothing to do until the next lease: the watchdog must not count this as a stall.</summary>
public sealed record ReportIdle : RankCommand;

/// <summary>Grant the data feed room for <c>Credits</c> more batches.</summary>
public sealed record GrantCredits(int Credits) : RankCommand;

/// <summary>Keep the batch in hand for a later lease.</summary>
public sealed record StashBatch : RankCommand;

/// <summary>Re-deliver the batches kept for this lease.</summary>
public sealed record UnstashBatches : RankCommand;

/// <summary>Run the trainer on the batch in hand (global step <c>Step</c>), then report <see cref="RankState.StepDone"/>.</summary>
public sealed record TrainStep(long Step) : RankCommand;

/// <summary>The step's log line, metrics and (rank 0) progress report to the coordinator.</summary>
public sealed record PublishStep(long Step) : RankCommand;

/// <summary>A warning for the node's log (and rank 0's training.log).</summary>
public sealed record WarnRank(string Message) : RankCommand;

/// <summary>The loss stayed NaN/inf for max_nonfinite_steps: fail the rank (<see cref="NonFiniteLossException"/>) so
/// that the generation rolls back to the last complete checkpoint.</summary>
public sealed record RollBack(string Reason) : RankCommand;

/// <summary>Run verification on rank 0 after <c>Step</c>.</summary>
public sealed record VerifyBackbone(long Step) : RankCommand;

/// <summary>Write backbone.pth (rank 0 only; other ranks never get this command).</summary>
public sealed record SaveBackbone : RankCommand;

/// <summary>Start the checkpoint of <c>Step</c>: a temporary rank folder, the shard by its actor and the replica here.</summary>
public sealed record WriteCheckpoint(long Step) : RankCommand;

/// <summary>Promote the temporary rank folder of <c>Step</c> (CheckpointStore), then write backbone.pth when asked.</summary>
public sealed record CommitCheckpoint(long Step, bool WithBackbone) : RankCommand;

/// <summary>Remove what exists of the checkpoint of <c>Step</c>, which could not be written (and log why).</summary>
public sealed record DiscardCheckpoint(long Step, string Reason) : RankCommand;

/// <summary>Tell the coordinator.</summary>
public sealed record NotifyCoordinator(IWireMessage Message) : RankCommand;
