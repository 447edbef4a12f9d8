namespace ActorFace.Host.Configuration;

public enum ConfigKind { Int, Long, Double, Bool, String, StringList, DoubleList, Duration }

/// <summary>
/// Every key of the `actorface` section with its type. The reference file documents them; a unit test keeps
/// both in step. Anything else under `actorface` is rejected, so a typo never silently falls back to a default.
/// </summary>
public static class ConfigSchema
{
    public const string Root = "actorface";

    public static readonly IReadOnlyDictionary<string, ConfigKind> Keys = new Dictionary<string, ConfigKind>
    {
        ["margin_list"] = ConfigKind.DoubleList,
        ["network"] = ConfigKind.String,
        ["resume"] = ConfigKind.Bool,
        ["save_all_states"] = ConfigKind.Bool,
        ["output"] = ConfigKind.String,
        ["embedding_size"] = ConfigKind.Int,
        ["sample_rate"] = ConfigKind.Double,
        ["interclass_filtering_threshold"] = ConfigKind.Double,
        ["fp16"] = ConfigKind.Bool,
        ["bf16"] = ConfigKind.Bool,
        ["fp16_growth_interval"] = ConfigKind.Int,
        ["collective"] = ConfigKind.String,
        ["batch_size"] = ConfigKind.Int,
        ["optimizer"] = ConfigKind.String,
        ["lr"] = ConfigKind.Double,
        ["momentum"] = ConfigKind.Double,
        ["weight_decay"] = ConfigKind.Double,
        ["verbose"] = ConfigKind.Int,
        ["frequent"] = ConfigKind.Int,
        ["dali"] = ConfigKind.Bool,
        ["dali_aug"] = ConfigKind.Bool,
        ["gradient_acc"] = ConfigKind.Int,
        ["grad_allreduce_fp16"] = ConfigKind.Bool,
        ["seed"] = ConfigKind.Int,
        ["num_workers"] = ConfigKind.Int,
        ["rec"] = ConfigKind.String,
        ["num_classes"] = ConfigKind.Int,
        ["num_image"] = ConfigKind.Long,
        ["num_epoch"] = ConfigKind.Int,
        ["warmup_epoch"] = ConfigKind.Int,
        ["val_targets"] = ConfigKind.StringList,
        ["val_dir"] = ConfigKind.String,
        ["data.prefetch"] = ConfigKind.Int,
        ["data.bad_records"] = ConfigKind.String,
        ["dataset"] = ConfigKind.String,
        ["dropout"] = ConfigKind.Double,
        ["device"] = ConfigKind.String,
        ["checkpoint_every"] = ConfigKind.Int,
        ["keep_checkpoints"] = ConfigKind.Int,
        ["max_steps"] = ConfigKind.Long,
        ["save_backbone"] = ConfigKind.Bool,
        ["stop_grace_period"] = ConfigKind.Duration,
        ["max_nonfinite_steps"] = ConfigKind.Int,
        ["checkpoint_failure"] = ConfigKind.String,
        ["synthetic.val_pairs"] = ConfigKind.Int,
        ["synthetic.val_identities"] = ConfigKind.Int,
        ["cluster.workers_per_node"] = ConfigKind.Int,
        ["cluster.min_workers"] = ConfigKind.Int,
        ["cluster.start_workers"] = ConfigKind.Int,
        ["cluster.max_workers"] = ConfigKind.Int,
        ["cluster.hostname"] = ConfigKind.String,
        ["cluster.port"] = ConfigKind.Int,
        ["cluster.seed_nodes"] = ConfigKind.StringList,
        ["cluster.join_timeout"] = ConfigKind.Duration,
        ["cluster.regroup_timeout"] = ConfigKind.Duration,
        ["cluster.collective_timeout"] = ConfigKind.Duration,
        ["cluster.step_timeout"] = ConfigKind.Duration,
        ["cluster.abort_timeout"] = ConfigKind.Duration,
        ["cluster.scale_up"] = ConfigKind.Bool,
        ["cluster.max_restarts"] = ConfigKind.Int,
        ["cluster.secret_file"] = ConfigKind.String,
        ["cluster.tls.certificate"] = ConfigKind.String,
        ["cluster.tls.key"] = ConfigKind.String,
        ["cluster.tls.ca"] = ConfigKind.String,
        ["cluster.allow_insecure"] = ConfigKind.Bool,
        ["monitoring.enabled"] = ConfigKind.Bool,
        ["init_backbone"] = ConfigKind.String,
        ["init_partial_fc"] = ConfigKind.String,
    };

    public static bool IsLeaf(string relativeKey) => Keys.ContainsKey(relativeKey);

    public static bool IsSection(string relativeKey) => Keys.Keys.Any(k => k.StartsWith(relativeKey + ".", StringComparison.Ordinal));
}
