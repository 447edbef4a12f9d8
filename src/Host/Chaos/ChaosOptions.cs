namespace ActorFace.Host.Chaos;

/// <summary>What `actorface chaos` runs: see docs/fault-tolerance.md.</summary>
public sealed record ChaosOptions
{
    public int Processes { get; init; } = 3;
    public int Kills { get; init; } = 2;
    /// <summary>SIGSTOP/SIGCONT pauses (shorter than the failure detector's acceptable pause: must be survived without a restart).</summary>
    public int Pauses { get; init; } = 1;
    public double PauseSeconds { get; init; } = 1.0;
    /// <summary>Restart a killed process (it rejoins as a stand-by and is included at the next generation).</summary>
    public bool Restart { get; init; }
    public string Output { get; init; } = Path.Combine(Path.GetTempPath(), "actorface-chaos");
    public int Seed { get; init; } = 1;
    public string? Config { get; init; }
    public IReadOnlyList<string> Sets { get; init; } = [];
    public bool Baseline { get; init; } = true;
    /// <summary>World sizes of the undisturbed runs (empty = <see cref="Processes"/> only). A run whose world size moved
    /// is held against the weakest of them: each world size trains the same epoch along another path.</summary>
    public IReadOnlyList<int> BaselineWorlds { get; init; } = [];
    /// <summary>How many points the final verification accuracy may fall below the undisturbed run's.</summary>
    public double AccuracyTolerance { get; init; } = 0.5;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The default job: tiny synthetic identities, MobileFaceNet with 32-d embeddings, one rank per process,
    /// a checkpoint every 4 steps. Later `--set` values win.</summary>
    public static readonly string[] DefaultSets =
    [
        "network=mbf", "embedding_size=32", "dataset=synthetic", "num_classes=12", "num_image=720", "num_epoch=1",
        "batch_size=4", "lr=0.02", "frequent=1", "checkpoint_every=4", "keep_checkpoints=3", "num_workers=1",
        "grad_allreduce_fp16=false", "synthetic.val_pairs=100", "synthetic.val_identities=10",
        "cluster.join_timeout=60s", "cluster.regroup_timeout=60s", "cluster.collective_timeout=15s", "cluster.step_timeout=30s",
        "cluster.abort_timeout=10s", "cluster.max_restarts=50",
    ];
}
