using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;
using ActorFace.Model.Backbones;
using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Actors.Training;

/// <summary>Builds a rank exactly as train_v2.py does (spec §5.2): get_model, CombinedMarginLoss(64, ...), PartialFC_V2,
/// one optimiser for both groups, PolynomialLRWarmup over the derived step counts.</summary>
public sealed class ProductionTrainerFactory : IRankTrainerFactory
{
    private static readonly object InitLock = new();

    public RankShard CreateShard(RankContext c, IReadOnlyList<string>? oldShardDirectories)
    {
        var s = c.Settings;
        var layout = new ShardLayout(s.NumClasses, c.WorldSize, c.Rank);
        var margin = Margin(s);
        // The shard lives on the rank's device; checkpoints hold CPU tensors whatever the device (TensorArchive).
        var options = PfcOptions(s) with { Device = DeviceOf(s, c.LocalSlot) };
        // Fine-tuning: the given centres instead of the random ones, on a fresh start only (a checkpoint's shards win).
        using var initial = oldShardDirectories is null && s.InitPartialFc.Length > 0 && InitialWeights.Applies(s, c.StartStep)
            ? InitialWeights.PartialFcRows(s.InitPartialFc, layout, s.EmbeddingSize)
            : null;
        var shard = oldShardDirectories is null
            ? new PartialFCShard(layout, s.EmbeddingSize, margin, options, initialWeight: initial)
            : PartialFCShard.Reshard(oldShardDirectories.Select(d => Path.Combine(d, PartialFCClassShard.ShardFile)).ToList(),
                layout, s.EmbeddingSize, margin, options);
        return new RankShard(new PartialFCClassShard(shard), () => CreateTrainer(c, shard));
    }

    private static RankTrainerAdapter CreateTrainer(RankContext c, PartialFCShard shard)
    {
        var s = c.Settings;
        var device = DeviceOf(s, c.LocalSlot);
        // Rank 0's weights are broadcast (DDP); seeding makes them repeatable. The global generator is shared by the
        // rank threads of a process, so seeding and drawing must not interleave between ranks.
        nn.Module<Tensor, Tensor> backbone;
        lock (InitLock)
        {
            torch.manual_seed(s.Seed);
            backbone = BackboneFactory.Create(s.Network, s.EmbeddingSize, s.Dropout, s.Fp16);
        }
        // Fine-tuning: rank 0's copy is what the trainer broadcasts; a resumed or recovered generation loads its
        // checkpoint's replica over the backbone afterwards, so only a fresh start reads init_backbone.
        if (c.Rank == 0 && s.InitBackbone.Length > 0 && InitialWeights.Applies(s, c.StartStep))
            InitialWeights.LoadBackbone(backbone, s.InitBackbone);
        backbone.to(device);
        var options = new RankTrainerOptions
        {
            Lr = s.Lr,
            Momentum = s.Momentum,
            WeightDecay = s.WeightDecay,
            Optimizer = ParameterOptimizer.Parse(s.Optimizer),
            GradientAcc = s.GradientAcc,
            WarmupSteps = checked((int)c.Plan.WarmupStep),
            TotalSteps = checked((int)c.Plan.TotalStep),
            Bf16 = s.Bf16,
            Compression = s.GradAllreduceFp16 ? GradientCompression.Float16 : GradientCompression.None,
            LossScaling = s.Fp16 ? new GradScalerOptions { GrowthInterval = s.Fp16GrowthInterval } : null,
        };
        var trainer = new RankTrainer(backbone, shard, c.Collective, options);
        return new RankTrainerAdapter(backbone, trainer, device);
    }

    public static CombinedMarginLoss Margin(TrainingSettings s) =>
        new(64, s.MarginList.M1, s.MarginList.M2, s.MarginList.M3, s.InterclassFilteringThreshold);

    public static PartialFCOptions PfcOptions(TrainingSettings s) =>
        new(s.SampleRate, ParameterOptimizer.Parse(s.Optimizer), s.Momentum, s.WeightDecay, s.Seed);

    public static Device DeviceOf(TrainingSettings s, int localSlot) =>
        s.Device == "cuda" ? new Device(DeviceType.CUDA, localSlot) : CPU;
}
