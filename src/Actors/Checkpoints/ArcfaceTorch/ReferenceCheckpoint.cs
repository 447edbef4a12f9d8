using System.Globalization;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Actors.Checkpoints.ArcfaceTorch;

/// <summary>arcface_torch's PolynomialLRWarmup state_dict (the keys ActorFace's schedule needs).</summary>
public sealed record ReferenceSchedule(double BaseLr, long LastEpoch, double LastLr, int WarmupIters, int TotalIters, double Power);

/// <summary>
/// One `checkpoint_gpu_{rank}.pt` of arcface_torch's train_v2.py (spec §5.6), read through the restricted unpickler:
/// epoch (the next one), global_step, the backbone state_dict, this rank's Partial FC shard `weight` [num_local, D],
/// the optimiser state (parameters numbered backbone first in module order, the Partial FC weight last) and the
/// scheduler state. The caller owns (and disposes) the tensors.
/// </summary>
public sealed class ReferenceCheckpoint : IDisposable
{
    public required string Path { get; init; }
    public required int Epoch { get; init; }
    public required long GlobalStep { get; init; }
    public required List<(string Key, Tensor Value)> Backbone { get; init; }
    public required Tensor PartialFcWeight { get; init; }
    /// <summary>sgd (momentum_buffer) or adamw (exp_avg, exp_avg_sq, step), from the optimiser's param_groups.</summary>
    public required string Optimizer { get; init; }
    /// <summary>Optimiser state of the i-th backbone parameter in PyTorch's module order (empty: never stepped or frozen).</summary>
    public required IReadOnlyList<Dictionary<string, Tensor>> BackboneState { get; init; }
    public required Dictionary<string, Tensor> PartialFcState { get; init; }
    public required double Lr { get; init; }
    public required double WeightDecay { get; init; }
    public required ReferenceSchedule Schedule { get; init; }

    public static ReferenceCheckpoint Read(string path)
    {
        var root = PthArchive.ReadObject(path) as PickleDict
                   ?? throw new InvalidDataException($"{path}: not an arcface_torch checkpoint (expected a dict with state_dict_backbone, state_optimizer, ...)");
        var r = new Reader(path);
        var backbone = r.StateDict(r.Get<PickleDict>(root, "state_dict_backbone"), "state_dict_backbone");
        var fc = r.StateDict(r.Get<PickleDict>(root, "state_dict_softmax_fc"), "state_dict_softmax_fc");
        if (fc.Count != 1 || fc[0].Key != "weight")
            throw r.Bad($"state_dict_softmax_fc must hold one tensor 'weight' (this rank's class centres), it holds {string.Join(", ", fc.Select(e => e.Key))}");
        var opt = r.Get<PickleDict>(root, "state_optimizer");
        var groups = r.Get<List<object?>>(opt, "param_groups");
        if (groups.Count != 2)
            throw r.Bad($"state_optimizer has {groups.Count} parameter groups; train_v2.py builds two (backbone, Partial FC)");
        var backboneGroup = r.As<PickleDict>(groups[0], "param_groups[0]");
        var fcGroup = r.As<PickleDict>(groups[1], "param_groups[1]");
        var backboneIds = r.Ids(backboneGroup);
        var fcIds = r.Ids(fcGroup);
        if (fcIds.Count != 1) throw r.Bad($"param_groups[1] names {fcIds.Count} parameters; the Partial FC group holds its weight alone");
        var optimizer = backboneGroup.TryGetValue("betas", out _) ? "adamw" : backboneGroup.TryGetValue("momentum", out _) ? "sgd"
            : throw r.Bad("param_groups[0] has neither momentum (SGD) nor betas (AdamW)");
        var state = r.Get<PickleDict>(opt, "state");
        Dictionary<string, Tensor> StateOf(long id) =>
            state.TryGetValue(id, out var s) ? r.TensorState(r.As<PickleDict>(s, $"state[{id}]"), $"state_optimizer.state[{id}]") : [];
        var sched = r.Get<PickleDict>(root, "state_lr_scheduler");
        return new ReferenceCheckpoint
        {
            Path = path,
            Epoch = checked((int)r.Get<long>(root, "epoch")),
            GlobalStep = r.Get<long>(root, "global_step"),
            Backbone = backbone,
            PartialFcWeight = fc[0].Value,
            Optimizer = optimizer,
            BackboneState = backboneIds.Select(StateOf).ToList(),
            PartialFcState = StateOf(fcIds[0]),
            Lr = r.Number(r.Get<object>(backboneGroup, "lr"), "lr"),
            WeightDecay = r.Number(r.Get<object>(backboneGroup, "weight_decay"), "weight_decay"),
            Schedule = new ReferenceSchedule(
                r.Number(r.Get<List<object?>>(sched, "base_lrs").FirstOrDefault(), "base_lrs[0]"),
                r.Get<long>(sched, "last_epoch"),
                r.Number(r.Get<List<object?>>(sched, "_last_lr").FirstOrDefault(), "_last_lr[0]"),
                checked((int)r.Get<long>(sched, "warmup_iters")),
                checked((int)r.Get<long>(sched, "total_iters")),
                r.Number(r.Get<object>(sched, "power"), "power")),
        };
    }

    public void Dispose()
    {
        foreach (var (_, t) in Backbone) t.Dispose();
        PartialFcWeight.Dispose();
        foreach (var t in BackboneState.SelectMany(s => s.Values).Concat(PartialFcState.Values)) t.Dispose();
    }

    /// <summary>Typed access to the unpickled tree; every error names the file and the path of the value.</summary>
    private sealed class Reader(string path)
    {
        public InvalidDataException Bad(string what) => new($"{path}: {what}");

        public T Get<T>(PickleDict dict, string key)
        {
            if (!dict.TryGetValue(key, out var value)) throw Bad($"key '{key}' is missing (not a checkpoint_gpu_<rank>.pt of arcface_torch's train_v2.py?)");
            return As<T>(value, key);
        }

        public T As<T>(object? value, string what) =>
            value is T t ? t : throw Bad($"'{what}' is a {value?.GetType().Name ?? "None"}, expected {typeof(T).Name}");

        public double Number(object? value, string what) => value switch
        {
            double d => d,
            long l => l,
            _ => throw Bad($"'{what}' is not a number"),
        };

        public List<long> Ids(PickleDict group) =>
            Get<List<object?>>(group, "params").Select(p => p as long? ?? throw Bad("param_groups params are not integers")).ToList();

        public List<(string Key, Tensor Value)> StateDict(PickleDict dict, string what) =>
            dict.Items.Select(kv => (kv.Key as string ?? throw Bad($"{what} has a non-string key"),
                kv.Value as Tensor ?? throw Bad($"{what}['{kv.Key}'] is not a tensor"))).ToList();

        /// <summary>An optimiser state entry; AdamW's step (a scalar tensor in torch >= 1.12, an int before) becomes a float64 scalar.</summary>
        public Dictionary<string, Tensor> TensorState(PickleDict dict, string what)
        {
            var result = new Dictionary<string, Tensor>();
            foreach (var (k, v) in dict.Items)
            {
                var key = k as string ?? throw Bad($"{what} has a non-string key");
                result[key] = v switch
                {
                    Tensor t when key == "step" => t.to_type(ScalarType.Float64), // as ActorFace's AdamW keeps it
                    Tensor t => t,
                    long l when key == "step" => tensor((double)l, ScalarType.Float64),
                    double d when key == "step" => tensor(d, ScalarType.Float64),
                    _ => throw Bad($"{what}['{key}'] is {v?.GetType().Name ?? "None"}, expected a tensor"),
                };
            }
            return result;
        }
    }

    /// <summary>The checkpoint_gpu_{rank}.pt files of a folder, in rank order (ranks 0..W-1, none missing).</summary>
    public static List<string> FilesIn(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"checkpoint folder not found: {directory}");
        var byRank = new SortedDictionary<int, string>();
        foreach (var f in Directory.GetFiles(directory, "checkpoint_gpu_*.pt"))
        {
            var digits = System.IO.Path.GetFileNameWithoutExtension(f)["checkpoint_gpu_".Length..];
            if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var rank)) byRank[rank] = f;
        }
        if (byRank.Count == 0)
            throw new InvalidDataException($"{directory}: no checkpoint_gpu_<rank>.pt files (arcface_torch writes them at each epoch end when save_all_states = True)");
        var missing = Enumerable.Range(0, byRank.Keys.Max() + 1).Where(r => !byRank.ContainsKey(r)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{directory}: checkpoint_gpu_{string.Join(", checkpoint_gpu_", missing)}.pt missing: every rank's file is needed (each holds its share of the class centres)");
        return byRank.Values.ToList();
    }
}
