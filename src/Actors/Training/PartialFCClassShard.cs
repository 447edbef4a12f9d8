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

    public ClassShardUsage Usage()
    {
        // GetState may build small tensors (AdamW's step); the scope frees them, the shard's own tensors are not in it.
        using var scope = TorchSharp.torch.NewDisposeScope();
        var weight = Shard.Weight;
        long bytes = Bytes(weight) + (weight.grad is { } g ? Bytes(g) : 0);
        foreach (var state in Shard.Optimizer.GetState(0).Values)
            bytes += Bytes(state);
        var sampled = Shard.LastIndex is { } index ? index.shape[0] : Shard.Layout.NumLocal;
        return new ClassShardUsage(Shard.Layout.ClassStart, Shard.Layout.NumLocal, sampled, bytes);
    }

    private static long Bytes(TorchSharp.torch.Tensor t) => t.NumberOfElements * t.ElementSize;

    public void Dispose() => Shard.Dispose();
}
