using ActorFace.Actors.Workers;
using ActorFace.Model.PartialFC;

namespace ActorFace.Actors.Training;

/// <summary><see cref="IClassShard"/> over a PartialFCShard: shard folder holds shard.afta (centres + optimiser state).</summary>
public sealed class PartialFCClassShard(PartialFCShard shard) : IClassShard
{
    public const string ShardFile = "shard.afta";

    public PartialFCShard Shard { get; } = shard;

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Shard.Save(Path.Combine(directory, ShardFile));
    }

    public void Dispose() => Shard.Dispose();
}
