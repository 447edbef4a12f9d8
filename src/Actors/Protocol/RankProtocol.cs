using static TorchSharp.torch;

namespace ActorFace.Actors.Protocol;

// In-process messages between the actors of one rank. They may carry tensors by reference and never cross the
// network (they do not implement IWireMessage, so Akka.Remote would refuse to serialise them).

/// <summary>The worker grants the data feed room for <c>Credits</c> more batches.</summary>
public sealed record FeedCredits(int Credits);

/// <summary>The batch of global step <c>Step</c>; the receiver owns (and disposes) the tensors.</summary>
public sealed record FeedBatch(long Step, int Epoch, Tensor Images, Tensor Labels);

/// <summary>The feed failed (unreadable data): the rank fails and the generation restarts.</summary>
public sealed record FeedFailed(string Reason);

/// <summary>Create the rank's shard (fresh, or re-sharded from every old rank's shard folder).</summary>
public sealed record CreateShard(IReadOnlyList<string>? OldShardDirectories);

/// <summary>The shard, by reference (same process), with its trainer's builder: the worker builds the trainer.</summary>
public sealed record ShardReady(ActorFace.Actors.Workers.RankShard Shard);

/// <summary>Save the shard into a folder (the worker waits for <see cref="ShardSaved"/>).</summary>
public sealed record SaveShard(long Step, string Directory);

public sealed record ShardSaved(long Step);

public sealed record ShardFailed(string Reason);

/// <summary>The shard could not be written (disk full, permission): a checkpoint failure, not a rank failure.</summary>
public sealed record ShardSaveFailed(long Step, string Reason);
