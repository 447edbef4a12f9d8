using ActorFace.Actors.Protocol;
using Akka.Actor;

namespace ActorFace.Actors.Workers;

/// <summary>
/// Owns one rank's Partial FC shard (class centres + their optimiser state): creates it (fresh, or re-sharded from the
/// shards of every old rank when the world size changed), saves it next to the worker's replica files in parallel
/// with them, and disposes it. The trainer uses the shard by reference during steps; the worker only asks this actor
/// between steps, so the two never touch it at the same time.
/// </summary>
public sealed class ClassShardActor : ReceiveActor
{
    private IClassShard? _shard;

    public ClassShardActor(IRankTrainerFactory factory, RankContext context)
    {
        Receive<CreateShard>(m =>
        {
            try
            {
                var created = factory.CreateShard(context, m.OldShardDirectories);
                _shard = created.Shard;
                Sender.Tell(new ShardReady(created));
            }
            catch (Exception e)
            {
                var what = m.OldShardDirectories is null ? "creating" : "re-loading";
                Sender.Tell(new ShardFailed($"{what} the class shard of rank {context.Rank} failed: {e.Message}"));
            }
        });
        Receive<SaveShard>(m =>
        {
            try
            {
                _shard!.Save(m.Directory);
                Sender.Tell(new ShardSaved(m.Step));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Sender.Tell(new ShardSaveFailed(m.Step, $"class shard of rank {context.Rank}: {e.Message}"));
            }
            catch (Exception e)
            {
                Sender.Tell(new ShardFailed($"saving the class shard of rank {context.Rank} to {m.Directory} failed: {e.Message}"));
            }
        });
    }

    public static Props Props(IRankTrainerFactory factory, RankContext context) =>
        Akka.Actor.Props.Create(() => new ClassShardActor(factory, context));

    protected override void PostStop() => _shard?.Dispose();
}
