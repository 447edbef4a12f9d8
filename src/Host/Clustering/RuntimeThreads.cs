using ActorFace.Actors.Settings;

namespace ActorFace.Host.Clustering;

public static class RuntimeThreads
{
    /// <summary>
    /// Ranks of one process share its cores: each gets cores / ranks intra-op threads, so that two ranks do not
    /// oversubscribe the CPU (which also starves Akka's heartbeats). ACTORFACE_THREADS overrides.
    /// </summary>
    public static void Configure(TrainingSettings settings)
    {
        var threads = int.TryParse(Environment.GetEnvironmentVariable("ACTORFACE_THREADS"), out var t) && t > 0
            ? t
            : Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Cluster.WorkersPerNode));
        TorchSharp.torch.set_num_threads(threads);
    }
}
