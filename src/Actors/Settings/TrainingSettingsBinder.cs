namespace ActorFace.Actors.Settings;

/// <summary>
/// Binds the `actorface` section to <see cref="TrainingSettings"/> (as Akka's settings classes read their
/// reference.conf) and checks the values. Keys, defaults, types, allowed values and ranges are declared once, in
/// actorface-reference.conf; <see cref="SettingsSchema"/> derives the checks that need no code from it.
/// </summary>
public static class TrainingSettingsBinder
{
    /// <summary>Binds and validates (a bad value is refused through <paramref name="r"/>, naming its key).</summary>
    public static TrainingSettings Bind(ISettingsReader r, string configName)
    {
        var settings = Read(r, configName);
        Check(settings, r);
        return settings;
    }

    /// <summary>Binds without the checks (the reference file alone: <see cref="TrainingSettings.Default"/>).</summary>
    public static TrainingSettings Read(ISettingsReader r, string configName)
    {
        var margins = r.Get<double[]>("margin_list");
        r.Require("margin_list", margins.Length == 3, "must have exactly three numbers [m1, m2, m3]");
        return new TrainingSettings
        {
            ConfigName = configName,
            MarginList = new MarginList(margins[0], margins[1], margins[2]),
            Network = r.Get<string>("network"),
            Resume = r.Get<bool>("resume"),
            SaveAllStates = r.Get<bool>("save_all_states"),
            Output = r.Get<string>("output"),
            EmbeddingSize = r.Get<int>("embedding_size"),
            SampleRate = r.Get<double>("sample_rate"),
            InterclassFilteringThreshold = r.Get<double>("interclass_filtering_threshold"),
            Fp16 = r.Get<bool>("fp16"),
            Bf16 = r.Get<bool>("bf16"),
            Fp16GrowthInterval = r.Get<int>("fp16_growth_interval"),
            Collective = r.Get<string>("collective"),
            BatchSize = r.Get<int>("batch_size"),
            Optimizer = r.Get<string>("optimizer"),
            Lr = r.Get<double>("lr"),
            Momentum = r.Get<double>("momentum"),
            WeightDecay = r.Get<double>("weight_decay"),
            Verbose = r.Get<int>("verbose"),
            Frequent = r.Get<int>("frequent"),
            GradientAcc = r.Get<int>("gradient_acc"),
            GradAllreduceFp16 = r.Get<bool>("grad_allreduce_fp16"),
            Seed = r.Get<int>("seed"),
            NumWorkers = r.Get<int>("num_workers"),
            Rec = r.Get<string>("rec"),
            NumClasses = r.Get<int>("num_classes"),
            NumImage = r.Get<long>("num_image"),
            NumEpoch = r.Get<int>("num_epoch"),
            WarmupEpoch = r.Get<int>("warmup_epoch"),
            ValTargets = r.Get<string[]>("val_targets"),
            ValDir = r.Get<string>("val_dir"),
            DataPrefetch = r.Get<int>("data.prefetch"),
            DataBadRecords = r.Get<string>("data.bad_records"),
            Dataset = r.Get<string>("dataset"),
            Dropout = r.Get<double>("dropout"),
            Device = r.Get<string>("device"),
            CheckpointEvery = r.Get<int>("checkpoint_every"),
            KeepCheckpoints = r.Get<int>("keep_checkpoints"),
            MaxSteps = r.Get<long>("max_steps"),
            SaveBackbone = r.Get<bool>("save_backbone"),
            StopGracePeriod = r.Get<TimeSpan>("stop_grace_period"),
            MaxNonFiniteSteps = r.Get<int>("max_nonfinite_steps"),
            CheckpointFailure = r.Get<string>("checkpoint_failure"),
            InitBackbone = r.Get<string>("init_backbone"),
            InitPartialFc = r.Get<string>("init_partial_fc"),
            Synthetic = new SyntheticSettings
            {
                ValPairs = r.Get<int>("synthetic.val_pairs"),
                ValIdentities = r.Get<int>("synthetic.val_identities"),
            },
            Cluster = new ClusterSettings
            {
                WorkersPerNode = r.Get<int>("cluster.workers_per_node"),
                MinWorkers = r.Get<int>("cluster.min_workers"),
                StartWorkers = r.Get<int>("cluster.start_workers"),
                MaxWorkers = r.Get<int>("cluster.max_workers"),
                Hostname = r.Get<string>("cluster.hostname"),
                Port = r.Get<int>("cluster.port"),
                SeedNodes = r.Get<string[]>("cluster.seed_nodes"),
                JoinTimeout = r.Get<TimeSpan>("cluster.join_timeout"),
                RegroupTimeout = r.Get<TimeSpan>("cluster.regroup_timeout"),
                CollectiveTimeout = r.Get<TimeSpan>("cluster.collective_timeout"),
                StepTimeout = r.Get<TimeSpan>("cluster.step_timeout"),
                AbortTimeout = r.Get<TimeSpan>("cluster.abort_timeout"),
                ScaleUp = r.Get<bool>("cluster.scale_up"),
                MaxRestarts = r.Get<int>("cluster.max_restarts"),
            },
        };
    }

    private static void Check(TrainingSettings s, ISettingsReader r)
    {
        // The reference file's `one of:` lines (optimizer, collective, dataset, device, ...).
        foreach (var (key, allowed) in SettingsSchema.Allowed)
            r.Require(key, allowed.Contains(r.Get<string>(key)), $"must be {SettingsSchema.OneOf(allowed)}");
        // The backbone names are Model's (one list, where the backbones are built).
        var networks = ActorFace.Model.Backbones.BackboneFactory.Networks;
        r.Require("network", networks.Contains(s.Network), $"must be one of {string.Join(", ", networks)}");
        r.Require("embedding_size", s.EmbeddingSize > 0, "must be > 0");
        r.Require("sample_rate", s.SampleRate is >= 0 and <= 1, "must be in [0, 1]");
        r.Require("interclass_filtering_threshold", s.InterclassFilteringThreshold is >= 0 and < 1, "must be in [0, 1)");
        r.Require("bf16", !(s.Fp16 && s.Bf16), "fp16 and bf16 cannot both be true");
        r.Require("fp16_growth_interval", s.Fp16GrowthInterval >= 1, "must be >= 1");
        r.Require("batch_size", s.BatchSize > 0, "must be > 0");
        r.Require("lr", s.Lr >= 0, "must be >= 0");
        r.Require("weight_decay", s.WeightDecay >= 0, "must be >= 0");
        r.Require("verbose", s.Verbose > 0, "must be > 0");
        r.Require("frequent", s.Frequent > 0, "must be > 0");
        r.Require("dali", !r.Get<bool>("dali"), "must be false: DALI is not available in ActorFace (dataset = rec reads the same files)");
        r.Require("dali_aug", !r.Get<bool>("dali_aug"), "must be false: DALI is not available in ActorFace");
        r.Require("gradient_acc", s.GradientAcc > 0, "must be > 0");
        r.Require("num_workers", s.NumWorkers >= 1, "must be >= 1 (decoding threads per rank)");
        r.Require("data.prefetch", s.DataPrefetch >= 1, "must be >= 1");
        r.Require("rec", s.Dataset == "synthetic" || s.Rec.Length > 0, $"must name the training data directory (dataset = {s.Dataset})");
        r.Require("num_classes", s.NumClasses > 0, "must be set (> 0): the number of identities");
        r.Require("num_image", s.NumImage > 0, "must be set (> 0): the number of training images");
        r.Require("num_epoch", s.NumEpoch > 0, "must be > 0");
        r.Require("dropout", s.Dropout is >= 0 and < 1, "must be in [0, 1)");
        r.Require("checkpoint_every", s.CheckpointEvery >= 0, "must be >= 0 (0 = every epoch)");
        r.Require("keep_checkpoints", s.KeepCheckpoints >= 1, "must be >= 1");
        r.Require("max_steps", s.MaxSteps >= 0, "must be >= 0 (0 = whole schedule)");
        r.Require("stop_grace_period", s.StopGracePeriod > TimeSpan.Zero && s.StopGracePeriod <= TimeSpan.FromHours(1), "must be > 0 and <= 1h");
        r.Require("max_nonfinite_steps", s.MaxNonFiniteSteps is >= 1 and <= 1_000_000, "must be in [1, 1000000]");
        r.Require("num_image", s.Dataset != "synthetic" || s.NumImage >= s.NumClasses, "must be >= num_classes for dataset = synthetic");
        r.Require("synthetic.val_pairs", s.Synthetic.ValPairs >= 0 && s.Synthetic.ValPairs % 20 == 0, "must be a multiple of 20 (10 folds of same/different pairs), 0 = none");
        r.Require("synthetic.val_identities", s.Synthetic.ValPairs == 0 || s.Synthetic.ValIdentities >= 2, "must be >= 2");
        r.Require("cluster.workers_per_node", s.Cluster.WorkersPerNode >= 0, "must be >= 0 (0 = a node that only watches)");
        r.Require("cluster.min_workers", s.Cluster.MinWorkers >= 0, "must be >= 0");
        r.Require("cluster.start_workers", s.Cluster.StartWorkers >= 0, "must be >= 0");
        r.Require("cluster.min_workers", s.EffectiveMinWorkers > 0, "must be > 0 when workers_per_node is 0");
        r.Require("cluster.max_workers", s.Cluster.MaxWorkers == 0 || s.Cluster.MaxWorkers >= s.EffectiveMinWorkers,
            "must be 0 or >= min_workers");
        r.Require("cluster.port", s.Cluster.Port is >= 0 and <= 65535, "must be a TCP port (0 = any free port)");
        foreach (var seed in s.Cluster.SeedNodes)
            r.Require("cluster.seed_nodes", seed.StartsWith("akka.tcp://actorface@", StringComparison.Ordinal) ||
                                            seed.StartsWith("akka.ssl.tcp://actorface@", StringComparison.Ordinal),
                $"'{seed}' is not an address of the form akka.tcp://actorface@host:port");
        r.Require("cluster.max_restarts", s.Cluster.MaxRestarts >= 0, "must be >= 0");
        r.Require("cluster.step_timeout", s.Cluster.StepTimeout >= TimeSpan.Zero, "must be >= 0 (0 = no watchdog)");
        r.Require("cluster.abort_timeout", s.Cluster.AbortTimeout > TimeSpan.Zero, "must be > 0");
        // The reference file's `range:` lines (size-like keys).
        foreach (var range in SettingsSchema.Ranges)
        {
            var problem = range.Problem(Convert.ToInt64(r.Get<object>(range.Key), System.Globalization.CultureInfo.InvariantCulture));
            r.Require(range.Key, problem is null, problem ?? "");
        }
    }
}
