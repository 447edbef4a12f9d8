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
/// The `actorface { }` section of the configuration, bound once (Host/Configuration) and handed to the actors.
/// Defaults equal src/Host/Configuration/actorface-reference.conf, which equals arcface_torch configs/base.py.
/// </summary>
public sealed record TrainingSettings
{
    public MarginList MarginList { get; init; } = new(1.0, 0.5, 0.0);
    public string Network { get; init; } = "r50";
    public bool Resume { get; init; }
    public bool SaveAllStates { get; init; }
    public string Output { get; init; } = "";
    public int EmbeddingSize { get; init; } = 512;
    public double SampleRate { get; init; } = 1.0;
    public double InterclassFilteringThreshold { get; init; }
    public bool Fp16 { get; init; }
    public bool Bf16 { get; init; }
    /// <summary>fp16 GradScaler: finite steps before the loss scale doubles (train_v2.py: 100).</summary>
    public int Fp16GrowthInterval { get; init; } = 100;
    /// <summary>Collective backend: auto | nccl | tcp | local (Training/CollectiveSelection).</summary>
    public string Collective { get; init; } = "auto";
    public int BatchSize { get; init; } = 128;
    public string Optimizer { get; init; } = "sgd";
    public double Lr { get; init; } = 0.1;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public int Verbose { get; init; } = 2000;
    public int Frequent { get; init; } = 10;
    public int GradientAcc { get; init; } = 1;
    public bool GradAllreduceFp16 { get; init; } = true;
    public int Seed { get; init; } = 2048;
    public int NumWorkers { get; init; } = 2;

    public string Rec { get; init; } = "";
    public int NumClasses { get; init; }
    public long NumImage { get; init; }
    public int NumEpoch { get; init; } = 20;
    public int WarmupEpoch { get; init; }
    public IReadOnlyList<string> ValTargets { get; init; } = [];
    public string ValDir { get; init; } = "";
    public int DataPrefetch { get; init; } = 6;
    public string DataBadRecords { get; init; } = "skip";

    public string Dataset { get; init; } = "rec";
    public double Dropout { get; init; }
    public string Device { get; init; } = "cpu";
    public int CheckpointEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    public long MaxSteps { get; init; }
    public bool SaveBackbone { get; init; } = true;
    /// <summary>How long a SIGTERM/SIGINT stop may take to write its checkpoint (stop_grace_period).</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Consecutive non-finite-loss steps (each skipped) before rolling back to the last checkpoint.</summary>
    public int MaxNonFiniteSteps { get; init; } = 5;
    /// <summary>stop | continue: what a checkpoint that cannot be written does to the run.</summary>
    public string CheckpointFailure { get; init; } = "stop";
    /// <summary>Backbone state_dict loaded (strictly) before the first step of a fresh run; "" = none.</summary>
    public string InitBackbone { get; init; } = "";
    /// <summary>Full [num_classes, D] class-centre matrix ("weight") loaded before the first step of a fresh run; "" = none.</summary>
    public string InitPartialFc { get; init; } = "";
    public SyntheticSettings Synthetic { get; init; } = new();
    public ClusterSettings Cluster { get; init; } = new();

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
    public int ValPairs { get; init; } = 400;
    public int ValIdentities { get; init; } = 40;
}

public sealed record ClusterSettings
{
    public int WorkersPerNode { get; init; } = 2;
    public int MinWorkers { get; init; }
    public int StartWorkers { get; init; }
    public int MaxWorkers { get; init; }
    public string Hostname { get; init; } = "127.0.0.1";
    public int Port { get; init; }
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan RegroupTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>A rank with steps to run that completes none for this long is taken for hung (0 = no watchdog).</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary>How long ranks get to stop after an abort before their node abandons them; the coordinator
    /// downs a node that has not confirmed the abort after twice this.</summary>
    public TimeSpan AbortTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Admit stand-by nodes at the next checkpoint (a planned regroup) instead of at the next failure.</summary>
    public bool ScaleUp { get; init; } = true;
    public int MaxRestarts { get; init; } = 5;
}
