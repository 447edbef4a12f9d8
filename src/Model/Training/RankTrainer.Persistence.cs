using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

public sealed partial class RankTrainer
{
    const string Format = "actorface.rank_trainer/1";

    /// <summary>
    /// Writes the backbone optimiser state, the LR schedule and the step counter (TensorArchive; metadata
    /// global_step, optimizer, gradient_acc, bf16, scheduler.*, grad_scaler.* with fp16; tensors "optimizer.{i}.{key}" by trainable-parameter
    /// index, plus "master.{i}" in bf16 mode). The backbone weights and the Partial FC shard are saved by their own
    /// owners; <paramref name="extra"/> carries caller metadata (epoch, data position) returned by <see cref="Load"/>.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? extra = null) =>
        WriteState(path, Optimizer.Kind, options.GradientAcc, GlobalStep, Scheduler.GetState(),
            Enumerable.Range(0, trainable.Count).Select(Optimizer.GetState).ToList(), options.Bf16 ? trainable : null, extra, Scaler);

    /// <summary>
    /// The file <see cref="Save"/> writes, from its parts: also how a checkpoint of another trainer (arcface_torch's
    /// optimiser and scheduler state) becomes one this trainer resumes. <paramref name="optimizerState"/> and
    /// <paramref name="masters"/> (float32 weights, bf16 mode only) are indexed by trainable backbone parameter.
    /// </summary>
    public static void WriteState(string path, OptimizerKind optimizer, int gradientAcc, long globalStep, PolynomialLRWarmupState s,
        IReadOnlyList<IReadOnlyDictionary<string, Tensor>> optimizerState, IReadOnlyList<Tensor>? masters,
        IReadOnlyDictionary<string, string>? extra = null, GradScaler? scaler = null)
    {
        if (masters is not null && masters.Count != optimizerState.Count)
            throw new ArgumentException($"{masters.Count} master weights for {optimizerState.Count} parameters", nameof(masters));
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["global_step"] = globalStep.ToString(CultureInfo.InvariantCulture),
            ["optimizer"] = optimizer.ToString(),
            ["num_parameters"] = optimizerState.Count.ToString(CultureInfo.InvariantCulture),
            ["gradient_acc"] = gradientAcc.ToString(CultureInfo.InvariantCulture),
            ["bf16"] = masters is not null ? "true" : "false",
            ["scheduler.base_lr"] = s.BaseLr.ToString("R", CultureInfo.InvariantCulture),
            ["scheduler.warmup_iters"] = s.WarmupIters.ToString(CultureInfo.InvariantCulture),
            ["scheduler.total_iters"] = s.TotalIters.ToString(CultureInfo.InvariantCulture),
            ["scheduler.power"] = s.Power.ToString("R", CultureInfo.InvariantCulture),
            ["scheduler.last_epoch"] = s.LastEpoch.ToString(CultureInfo.InvariantCulture),
            ["scheduler.last_lr"] = s.LastLr.ToString("R", CultureInfo.InvariantCulture),
        };
        scaler?.WriteTo(meta);
        if (extra is not null)
            foreach (var (k, v) in extra) meta["extra." + k] = v;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (var i = 0; i < optimizerState.Count; i++)
        {
            foreach (var (k, t) in optimizerState[i]) tensors.Add(new($"optimizer.{i}.{k}", t));
            if (masters is not null) tensors.Add(new($"master.{i}", masters[i]));
        }
        TensorArchive.Write(path, meta, tensors);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; returns the caller's extra metadata.</summary>
    public IReadOnlyDictionary<string, string> Load(string path) => Load(path, stepsDone: null);

    /// <summary>
    /// Restores what <see cref="Save"/> wrote and positions the trainer after <paramref name="stepsDone"/> steps of
    /// this trainer's own LR schedule. They differ from the saved ones when the world (or batch) size changed since the
    /// save (elastic recovery, scale-up): the checkpoint's step then counts batches of another size, and the schedule
    /// this world runs is restarted and stepped to the equivalent step instead of restored.
    /// </summary>
    public IReadOnlyDictionary<string, string> Load(string path, long? stepsDone)
    {
        var (meta, tensors) = TensorArchive.Read(path);
        try
        {
            var current = Scheduler.GetState();
            if (stepsDone is { } done && !SameSchedule(meta, path, done, current))
                RescheduleInto(meta, current, done);
            if (meta.Require("format", path) != Format) throw new InvalidDataException($"{path}: format '{meta["format"]}' is not {Format}");
            if (meta.Require("optimizer", path) != Optimizer.Kind.ToString())
                throw new InvalidDataException($"{path}: optimiser {meta["optimizer"]} != {Optimizer.Kind}");
            if (int.Parse(meta.Require("num_parameters", path), CultureInfo.InvariantCulture) != trainable.Count)
                throw new InvalidDataException($"{path}: saved for {meta["num_parameters"]} trainable parameters, this backbone has {trainable.Count}");
            if (meta.Require("bf16", path) != (options.Bf16 ? "true" : "false"))
                throw new InvalidDataException($"{path}: bf16={meta["bf16"]} but this trainer runs bf16={options.Bf16}");
            double D(string k) => double.Parse(meta.Require(k, path), CultureInfo.InvariantCulture);
            long L(string k) => long.Parse(meta.Require(k, path), CultureInfo.InvariantCulture);
            Scheduler.LoadState(new PolynomialLRWarmupState(D("scheduler.base_lr"), (int)L("scheduler.warmup_iters"),
                (int)L("scheduler.total_iters"), D("scheduler.power"), L("scheduler.last_epoch"), D("scheduler.last_lr")));
            for (var i = 0; i < trainable.Count; i++)
            {
                var prefix = $"optimizer.{i}.";
                var state = tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
                try { Optimizer.SetState(i, state); }
                catch (InvalidOperationException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
                if (options.Bf16)
                {
                    var master = tensors.Require($"master.{i}", path);
                    if (!master.shape.SequenceEqual(trainable[i].shape)) throw new InvalidDataException($"{path}: master.{i} has the wrong shape");
                    using (torch.no_grad()) trainable[i].copy_(master);
                }
            }
            if (options.Bf16) CopyMastersToModule();
            Scaler?.ReadFrom(meta, path);
            GlobalStep = L("global_step");
            return meta.Where(kv => kv.Key.StartsWith("extra.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["extra.".Length..], kv => kv.Value);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static bool SameSchedule(Dictionary<string, string> meta, string path, long stepsDone, PolynomialLRWarmupState current) =>
        meta.Require("global_step", path) == stepsDone.ToString(CultureInfo.InvariantCulture)
        && meta.Require("scheduler.total_iters", path) == current.TotalIters.ToString(CultureInfo.InvariantCulture)
        && meta.Require("scheduler.warmup_iters", path) == current.WarmupIters.ToString(CultureInfo.InvariantCulture);

    /// <summary>This trainer's schedule (base LR and step counts of this world), positioned after
    /// <paramref name="stepsDone"/> steps, replaces the saved one in <paramref name="meta"/> before it is restored.</summary>
    private static void RescheduleInto(Dictionary<string, string> meta, PolynomialLRWarmupState current, long stepsDone)
    {
        var schedule = new PolynomialLRWarmup(current.BaseLr, current.WarmupIters, current.TotalIters, current.Power);
        for (long i = 0; i < stepsDone; i++) schedule.Step();
        meta["global_step"] = stepsDone.ToString(CultureInfo.InvariantCulture);
        meta["scheduler.base_lr"] = schedule.BaseLr.ToString("R", CultureInfo.InvariantCulture);
        meta["scheduler.warmup_iters"] = schedule.WarmupIters.ToString(CultureInfo.InvariantCulture);
        meta["scheduler.total_iters"] = schedule.TotalIters.ToString(CultureInfo.InvariantCulture);
        meta["scheduler.last_epoch"] = schedule.LastEpoch.ToString(CultureInfo.InvariantCulture);
        meta["scheduler.last_lr"] = schedule.LastLr.ToString("R", CultureInfo.InvariantCulture);
    }
}
