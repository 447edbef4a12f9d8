using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ActorFace.Actors.Coordination;

namespace ActorFace.Actors.Settings;

public static class SettingsDump
{
    /// <summary>arcface_torch prints every config key (plus the derived step counts) at start.</summary>
    public static IEnumerable<(string Key, object? Value)> Entries(TrainingSettings s, StepPlan plan)
    {
        yield return ("margin_list", s.MarginList);
        yield return ("network", s.Network);
        yield return ("resume", s.Resume);
        yield return ("output", s.OutputDirectory);
        yield return ("embedding_size", s.EmbeddingSize);
        yield return ("sample_rate", s.SampleRate);
        yield return ("interclass_filtering_threshold", s.InterclassFilteringThreshold);
        yield return ("fp16", s.Fp16);
        yield return ("bf16", s.Bf16);
        yield return ("batch_size", s.BatchSize);
        yield return ("optimizer", s.Optimizer);
        yield return ("lr", s.Lr);
        yield return ("momentum", s.Momentum);
        yield return ("weight_decay", s.WeightDecay);
        yield return ("verbose", s.Verbose);
        yield return ("frequent", s.Frequent);
        yield return ("gradient_acc", s.GradientAcc);
        yield return ("grad_allreduce_fp16", s.GradAllreduceFp16);
        yield return ("seed", s.Seed);
        yield return ("num_workers", s.NumWorkers);
        yield return ("dataset", s.Dataset);
        yield return ("rec", s.Rec);
        yield return ("num_classes", s.NumClasses);
        yield return ("num_image", s.NumImage);
        yield return ("num_epoch", s.NumEpoch);
        yield return ("warmup_epoch", s.WarmupEpoch);
        yield return ("val_targets", "[" + string.Join(", ", s.ValTargets) + "]");
        yield return ("checkpoint_every", s.CheckpointEvery);
        yield return ("keep_checkpoints", s.KeepCheckpoints);
        yield return ("max_steps", s.MaxSteps);
        if (s.InitBackbone.Length > 0) yield return ("init_backbone", s.InitBackbone);
        if (s.InitPartialFc.Length > 0) yield return ("init_partial_fc", s.InitPartialFc);
        yield return ("world_size", plan.WorldSize);
        yield return ("total_batch_size", plan.TotalBatchSize);
        yield return ("warmup_step", plan.WarmupStep);
        yield return ("total_step", plan.TotalStep);
    }

    /// <summary>Digest of everything every node must agree on (cluster wiring and resume are per node).</summary>
    public static string Fingerprint(TrainingSettings s)
    {
        var shared = s with { Cluster = new ClusterSettings(), Resume = false, Output = s.OutputDirectory, ConfigName = "" };
        var json = JsonSerializer.Serialize(shared);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16];
    }
}
