using ActorFace.Actors.Protocol;
using Akka.Actor;

namespace ActorFace.Actors.Workers;

/// <summary>
/// Owns the persistence of one rank's Partial FC shard (class centres + their optimiser state): saves it next to the
/// worker's replica files (in parallel with them) and restores it, re-sharding when the world size changed.
/// The shard object itself is shared by reference with the rank's trainer; the worker only asks this actor while
/// no step is running, so the two never touch it at the same time.
/// </summary>
public sealed class ClassShardActor : ReceiveActor
{
    public ClassShardActor(IClassShard shard)
    {
        Receive<SaveShard>(m =>
        {
            try
            {
                shard.Save(m.Directory);
                Sender.Tell(new ShardSaved(m.Step));
            }
            catch (Exception e)
            {
                Sender.Tell(new ShardFailed($"saving the class shard to {m.Directory} failed: {e.Message}"));
            }
        });
        Receive<LoadShard>(m =>
        {
            try
            {
                shard.Load(m.OldRankDirectories);
                Sender.Tell(new ShardLoaded());
            }
            catch (Exception e)
            {
                Sender.Tell(new ShardFailed($"loading the class shard failed: {e.Message}"));
            }
        });
    }

    public static Props Props(IClassShard shard) => Akka.Actor.Props.Create(() => new ClassShardActor(shard));
}
