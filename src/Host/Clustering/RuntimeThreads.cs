using ActorFace.Actors.Settings;

namespace ActorFace.Host.Clustering;

public static class RuntimeThreads
{
    /// <summary>
    /// Ranks of one process share its cores: each gets cores / ranks intra-op threads, so that two ranks do not
    /// oversubscribe the CPU (which also starves Akka's heartbeats). ACTORFACE_THREADS overrides.
    /// </summary>
    public static void Configure(TrainingSettings settings) => ShareCores(settings.Cluster.WorkersPerNode);

    /// <summary>
    /// Sets libtorch's intra-op threads to cores / <paramref name="ranks"/> (at least 1) for a process that is one of
    /// <paramref name="ranks"/> ranks on this machine (torchrun sets OMP_NUM_THREADS=1 for the same reason: two
    /// processes of two threads each on two cores spend their time in each other's OpenMP barriers).
    /// ACTORFACE_THREADS overrides.
    /// </summary>
    public static void ShareCores(int ranks)
    {
        var threads = int.TryParse(Environment.GetEnvironmentVariable("ACTORFACE_THREADS"), out var t) && t > 0
            ? t
            : Math.Max(1, Environment.ProcessorCount / Math.Max(1, ranks));
        TorchSharp.torch.set_num_threads(threads);
    }
}
