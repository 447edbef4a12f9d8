namespace ActorFace.Actors.Settings;

/// <summary>(m1, m2, m3) of CombinedMarginLoss: cos(m1·θ + m2) − m3, scaled by s = 64.</summary>
public readonly record struct MarginList(double M1, double M2, double M3)
{
    /// <summary>Python's tuple repr, as arcface_torch's config dump prints it: (1.0, 0.5, 0.0).</summary>
    public override string ToString() => $"({Py(M1)}, {Py(M2)}, {Py(M3)})";

    internal static string Py(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e16 ? v.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)
            : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The `actorface { }` section of the configuration, handed to the actors. Every key, its default and its meaning
/// are declared once, in actorface-reference.conf next to this file; <see cref="TrainingSettingsBinder"/> binds them
/// (so the properties carry no defaults of their own: <see cref="Default"/> is the reference file, bound).
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The reference file's values (arcface_torch configs/base.py), unvalidated: num_classes and num_image are 0.</summary>
    public static TrainingSettings Default { get; } = TrainingSettingsBinder.Read(new ConfigSettingsReader(SettingsSchema.Reference), "actorface");

    public required MarginList MarginList { get; init; }
    public required string Network { get; init; }
    public required bool Resume { get; init; }
    public required bool SaveAllStates { get; init; }
    public required string Output { get; init; }
    public required int EmbeddingSize { get; init; }
    public required double SampleRate { get; init; }
    public required double InterclassFilteringThreshold { get; init; }
    public required bool Fp16 { get; init; }
    public required bool Bf16 { get; init; }
    /// <summary>fp16 GradScaler: finite steps before the loss scale doubles (train_v2.py: 100).</summary>
    public required int Fp16GrowthInterval { get; init; }
    /// <summary>Collective backend: auto | nccl | tcp | local (Training/CollectiveSelection).</summary>
    public required string Collective { get; init; }
    public required int BatchSize { get; init; }
    public required string Optimizer { get; init; }
    public required double Lr { get; init; }
    public required double Momentum { get; init; }
    public required double WeightDecay { get; init; }
    public required int Verbose { get; init; }
    public required int Frequent { get; init; }
    public required int GradientAcc { get; init; }
    public required bool GradAllreduceFp16 { get; init; }
    public required int Seed { get; init; }
    public required int NumWorkers { get; init; }

    public required string Rec { get; init; }
    public required int NumClasses { get; init; }
    public required long NumImage { get; init; }
    public required int NumEpoch { get; init; }
    public required int WarmupEpoch { get; init; }
    public required IReadOnlyList<string> ValTargets { get; init; }
    public required string ValDir { get; init; }
    public required int DataPrefetch { get; init; }
    public required string DataBadRecords { get; init; }

    public required string Dataset { get; init; }
    public required double Dropout { get; init; }
    public required string Device { get; init; }
    public required int CheckpointEvery { get; init; }
    public required int KeepCheckpoints { get; init; }
    public required long MaxSteps { get; init; }
    public required bool SaveBackbone { get; init; }
    /// <summary>How long a SIGTERM/SIGINT stop may take to write its checkpoint (stop_grace_period).</summary>
    public required TimeSpan StopGracePeriod { get; init; }
    /// <summary>Consecutive non-finite-loss steps (each skipped) before rolling back to the last checkpoint.</summary>
    public required int MaxNonFiniteSteps { get; init; }
    /// <summary>stop | continue: what a checkpoint that cannot be written does to the run.</summary>
    public required string CheckpointFailure { get; init; }
    /// <summary>Backbone state_dict loaded (strictly) before the first step of a fresh run; "" = none.</summary>
    public required string InitBackbone { get; init; }
    /// <summary>Full [num_classes, D] class-centre matrix ("weight") loaded before the first step of a fresh run; "" = none.</summary>
    public required string InitPartialFc { get; init; }
    public required SyntheticSettings Synthetic { get; init; }
    public required ClusterSettings Cluster { get; init; }

    /// <summary>Name of the configuration (file name without extension), used for the default output folder.</summary>
    public string ConfigName { get; init; } = "actorface";

    /// <summary>The output directory, with arcface_torch's default (work_dirs/&lt;config&gt;) applied.</summary>
    public string OutputDirectory => string.IsNullOrEmpty(Output) ? Path.Combine("work_dirs", ConfigName) : Output;

    /// <summary>Folder of the verification .bin files (arcface_torch: the `rec` folder).</summary>
    public string VerificationDirectory => string.IsNullOrEmpty(ValDir) ? Rec : ValDir;

    /// <summary>Ranks the job waits for before it starts.</summary>
    public int EffectiveMinWorkers => Cluster.MinWorkers > 0 ? Cluster.MinWorkers : Cluster.WorkersPerNode;

    /// <summary>Ranks the first generation waits for (cluster.start_workers, default min_workers).</summary>
    public int EffectiveStartWorkers => Math.Max(EffectiveMinWorkers, Cluster.StartWorkers);
}

public sealed record SyntheticSettings
{
    public required int ValPairs { get; init; }
    public required int ValIdentities { get; init; }
}

public sealed record ClusterSettings
{
    public required int WorkersPerNode { get; init; }
    public required int MinWorkers { get; init; }
    public required int StartWorkers { get; init; }
    public required int MaxWorkers { get; init; }
    public required string Hostname { get; init; }
    public required int Port { get; init; }
    public required IReadOnlyList<string> SeedNodes { get; init; }
    public required TimeSpan JoinTimeout { get; init; }
    public required TimeSpan RegroupTimeout { get; init; }
    public required TimeSpan CollectiveTimeout { get; init; }
    /// <summary>A rank with steps to run that completes none for this long is taken for hung (0 = no watchdog).</summary>
    public required TimeSpan StepTimeout { get; init; }
    /// <summary>How long ranks get to stop after an abort before their node abandons them; the coordinator
    /// downs a node that has not confirmed the abort after twice this.</summary>
    public required TimeSpan AbortTimeout { get; init; }
    /// <summary>Admit stand-by nodes at the next checkpoint (a planned regroup) instead of at the next failure.</summary>
    public required bool ScaleUp { get; init; }
    public required int MaxRestarts { get; init; }
}
