using System.Globalization;
using ActorFace.Model.Losses;
using ActorFace.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>A shard's persistent content: its layout, centres, per-parameter optimiser state and the position of its
/// negative-sampling generator (uint8 libtorch generator state; null in files that have none).</summary>
public sealed record ShardState(ShardLayout Layout, Tensor Weight, OptimizerKind Optimizer, IReadOnlyDictionary<string, Tensor> OptimizerState,
    Tensor? SamplerState = null) : IDisposable
{
    public void Dispose()
    {
        Weight.Dispose();
        SamplerState?.Dispose();
        foreach (var t in OptimizerState.Values) t.Dispose();
    }
}

public sealed partial class PartialFCShard
{
    const string Format = "actorface.partial_fc_shard/1";

    /// <summary>
    /// Writes weight and optimiser state (TensorArchive: tensors "weight", "optimizer.momentum_buffer" or
    /// "optimizer.exp_avg/exp_avg_sq/step", "sampler.rng_state" (the sampling generator's state as int64 bytes, so
    /// that a resumed run draws the negatives an uninterrupted one would); metadata num_classes, world_size, rank,
    /// class_start, num_local, embedding_size, optimizer).
    /// </summary>
    public void Save(string path)
    {
        Synchronize();
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["num_classes"] = Layout.NumClasses.ToString(CultureInfo.InvariantCulture),
            ["world_size"] = Layout.WorldSize.ToString(CultureInfo.InvariantCulture),
            ["rank"] = Layout.Rank.ToString(CultureInfo.InvariantCulture),
            ["class_start"] = Layout.ClassStart.ToString(CultureInfo.InvariantCulture),
            ["num_local"] = Layout.NumLocal.ToString(CultureInfo.InvariantCulture),
            ["embedding_size"] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
            ["optimizer"] = Optimizer.Kind.ToString(),
        };
        var tensors = new List<KeyValuePair<string, Tensor>> { new("weight", Weight) };
        tensors.AddRange(Optimizer.GetState(0).Select(kv => new KeyValuePair<string, Tensor>("optimizer." + kv.Key, kv.Value)));
        using var sampler = random.GetState()?.to_type(ScalarType.Int64);
        if (sampler is not null) tensors.Add(new(SamplerStateKey, sampler));
        TensorArchive.Write(path, meta, tensors);
    }

    /// <summary>Reads a shard file written by <see cref="Save"/> (any world size).</summary>
    public static ShardState ReadState(string path)
    {
        var (meta, tensors) = TensorArchive.Read(path);
        if (meta.Require("format", path) != Format) throw new InvalidDataException($"{path}: format '{meta["format"]}' is not {Format}");
        long L(string k) => long.Parse(meta.Require(k, path), CultureInfo.InvariantCulture);
        var layout = new ShardLayout(L("num_classes"), (int)L("world_size"), (int)L("rank"));
        if (layout.ClassStart != L("class_start") || layout.NumLocal != L("num_local"))
            throw new InvalidDataException($"{path}: class_start/num_local {L("class_start")}/{L("num_local")} contradict the layout of rank {layout.Rank} of {layout.WorldSize}");
        if (!Enum.TryParse<OptimizerKind>(meta.Require("optimizer", path), out var kind))
            throw new InvalidDataException($"{path}: unknown optimizer '{meta["optimizer"]}'");
        var weight = tensors.Require("weight", path);
        if (!weight.shape.SequenceEqual(new[] { layout.NumLocal, L("embedding_size") }))
            throw new InvalidDataException($"{path}: weight shape [{string.Join(",", weight.shape)}] != [{layout.NumLocal},{L("embedding_size")}]");
        var state = tensors.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["optimizer.".Length..], kv => kv.Value);
        var sampler = tensors.TryGetValue(SamplerStateKey, out var rng) ? rng.to_type(ScalarType.Byte) : null;
        rng?.Dispose();
        return new ShardState(layout, weight, kind, state, sampler);
    }

    const string SamplerStateKey = "sampler.rng_state";

    /// <summary>Restores weight and optimiser state saved by a shard of the same layout, size and optimiser.</summary>
    public void Load(string path)
    {
        using var state = ReadState(path);
        if (state.Layout != Layout)
            throw new InvalidDataException($"{path}: saved for rank {state.Layout.Rank}/{state.Layout.WorldSize} of {state.Layout.NumClasses} classes, this shard is rank {Layout.Rank}/{Layout.WorldSize} of {Layout.NumClasses}; use Reshard for a new world size");
        LoadState(state, path);
    }

    void LoadState(ShardState state, string source)
    {
        if (state.Weight.shape[1] != EmbeddingSize)
            throw new InvalidDataException($"{source}: embedding size {state.Weight.shape[1]} != {EmbeddingSize}");
        if (state.Optimizer != Optimizer.Kind)
            throw new InvalidDataException($"{source}: optimiser state is {state.Optimizer}, this shard uses {Optimizer.Kind}");
        using (torch.no_grad()) Weight.copy_(state.Weight);
        Optimizer.SetState(0, state.OptimizerState);
        deferred?.Reset();
        if (state.SamplerState is not null) random.SetState(state.SamplerState);
    }

    /// <summary>
    /// Builds this rank's shard for <paramref name="layout"/> from the shards of an old world (in old rank order), as if
    /// the old shards were concatenated along the class axis and re-split: weights and per-row optimiser state are sliced
    /// from the overlapping old shards; AdamW's step count must agree. Only one old shard is held at a time.
    /// </summary>
    public static PartialFCShard Reshard(IReadOnlyList<string> oldShardPaths, ShardLayout layout, int embeddingSize,
        CombinedMarginLoss margin, PartialFCOptions options, ISampleRandom? random = null)
    {
        IEnumerable<ShardState> Read()
        {
            foreach (var p in oldShardPaths) yield return ReadState(p);
        }
        return Reshard(Read(), layout, embeddingSize, margin, options, random, disposeInputs: true, source: string.Join(", ", oldShardPaths));
    }

    /// <summary>In-memory form of <see cref="Reshard(IReadOnlyList{string}, ShardLayout, int, CombinedMarginLoss, PartialFCOptions, ISampleRandom?)"/>; the inputs stay owned by the caller.</summary>
    public static PartialFCShard Reshard(IReadOnlyList<ShardState> oldShards, ShardLayout layout, int embeddingSize,
        CombinedMarginLoss margin, PartialFCOptions options, ISampleRandom? random = null) =>
        Reshard(oldShards, layout, embeddingSize, margin, options, random, disposeInputs: false, source: "old shards");

    static PartialFCShard Reshard(IEnumerable<ShardState> oldShards, ShardLayout layout, int embeddingSize,
        CombinedMarginLoss margin, PartialFCOptions options, ISampleRandom? random, bool disposeInputs, string source)
    {
        using var scope = torch.NewDisposeScope();
        var weightParts = new List<Tensor>();
        var stateParts = new Dictionary<string, List<Tensor>>();
        Dictionary<string, Tensor>? scalars = null;
        long expectedStart = 0;
        int? oldWorld = null;
        Tensor? sampler = null;
        bool? hasState = null;
        var count = 0;
        foreach (var old in oldShards)
        {
            try
            {
                var o = old.Layout;
                if (o.NumClasses != layout.NumClasses)
                    throw new InvalidDataException($"{source}: old shard {count} has {o.NumClasses} classes, the new layout {layout.NumClasses}");
                if (o.Rank != count || (oldWorld ??= o.WorldSize) != o.WorldSize || o.ClassStart != expectedStart)
                    throw new InvalidDataException($"{source}: old shards must be ranks 0..W-1 of one world in order; entry {count} is rank {o.Rank}/{o.WorldSize}");
                if (old.Weight.shape[1] != embeddingSize)
                    throw new InvalidDataException($"{source}: old shard {count} has embedding size {old.Weight.shape[1]}, expected {embeddingSize}");
                if (old.Optimizer != options.Optimizer)
                    throw new InvalidDataException($"{source}: old shard {count} has {old.Optimizer} state, the new shard uses {options.Optimizer}");
                if ((hasState ??= old.OptimizerState.Count > 0) != old.OptimizerState.Count > 0)
                    throw new InvalidDataException($"{source}: old shard {count} disagrees with shard 0 on whether optimiser state exists");
                expectedStart = o.ClassEnd;
                count++;
                // Same world: this rank continues its own sampling stream. A new world samples other classes per rank anyway.
                if (o.WorldSize == layout.WorldSize && o.Rank == layout.Rank && old.SamplerState is not null)
                    sampler = old.SamplerState.clone();

                foreach (var (key, t) in old.OptimizerState)
                {
                    if (t.dim() == 0)
                    {
                        scalars ??= new Dictionary<string, Tensor>();
                        if (scalars.TryGetValue(key, out var prev) && !prev.eq(t).all().item<bool>())
                            throw new InvalidDataException($"{source}: optimiser scalar '{key}' differs between old shards");
                        scalars[key] = t.clone();
                    }
                }
                var from = Math.Max(o.ClassStart, layout.ClassStart);
                var to = Math.Min(o.ClassEnd, layout.ClassEnd);
                if (to <= from) continue;
                weightParts.Add(old.Weight.narrow(0, from - o.ClassStart, to - from).clone());
                foreach (var (key, t) in old.OptimizerState.Where(kv => kv.Value.dim() > 0))
                {
                    if (!stateParts.TryGetValue(key, out var list)) stateParts[key] = list = new List<Tensor>();
                    list.Add(t.narrow(0, from - o.ClassStart, to - from).clone());
                }
            }
            finally
            {
                if (disposeInputs) old.Dispose();
            }
        }
        if (expectedStart != layout.NumClasses)
            throw new InvalidDataException($"{source}: old shards cover classes [0, {expectedStart}) of {layout.NumClasses}");

        var weight = torch.cat(weightParts, 0);
        var shard = new PartialFCShard(layout, embeddingSize, margin, options, random, weight);
        var state = stateParts.ToDictionary(kv => kv.Key, kv => torch.cat(kv.Value, 0));
        if (scalars is not null) foreach (var (k, v) in scalars) state[k] = v;
        shard.Optimizer.SetState(0, state);
        if (sampler is not null) shard.random.SetState(sampler);
        return shard;
    }
}
