namespace ActorFace.Actors.Training;

/// <summary>Which communicator the ranks of one generation use.</summary>
public enum CollectiveKind
{
    /// <summary>TCP ring between processes (Model's TcpCollective; TLS when the cluster is protected).</summary>
    Tcp = 0,
    /// <summary>Shared memory between the threads of one process.</summary>
    Local = 1,
    /// <summary>NCCL on CUDA tensors; the unique id travels rank 0 → coordinator → every rank.</summary>
    Nccl = 2,
}

/// <summary>
/// The `collective` key's rule, decided by the coordinator for each generation: auto = NCCL when every rank of the
/// generation is on CUDA and libnccl loads on every node that hosts one, else TCP between processes / local within
/// one; nccl, tcp and local force their backend, and a forced choice the world cannot honour is an error naming the
/// key (the job ends with it rather than silently running on something else).
/// </summary>
public static class CollectiveSelection
{
    /// <param name="setting">auto | nccl | tcp | local</param>
    /// <param name="device">the `device` key: cpu | cuda (the same on every node: settings are fingerprinted)</param>
    /// <param name="singleProcess">every rank of the generation lives in one process</param>
    /// <param name="ncclMissing">nodes of the generation where NCCL is unavailable, with the reason each gave</param>
    public static CollectiveKind Select(string setting, string device, bool singleProcess,
        IReadOnlyList<(string Node, string Reason)> ncclMissing, out string? error)
    {
        error = null;
        var onCuda = device == "cuda";
        switch (setting)
        {
            case "auto":
                if (onCuda && ncclMissing.Count == 0) return CollectiveKind.Nccl;
                return singleProcess ? CollectiveKind.Local : CollectiveKind.Tcp;
            case "nccl":
                if (!onCuda)
                    error = $"collective = nccl needs device = cuda (device = {device}): NCCL moves CUDA tensors only";
                else if (ncclMissing.Count > 0)
                    error = "collective = nccl but NCCL is unavailable on " +
                            string.Join("; ", ncclMissing.Select(m => $"{m.Node} ({m.Reason})"));
                return CollectiveKind.Nccl;
            case "tcp":
                return CollectiveKind.Tcp;
            case "local":
                if (!singleProcess)
                    error = "collective = local needs every rank in one process, but this generation spans several nodes: use auto or tcp";
                return CollectiveKind.Local;
            default:
                error = $"collective = {setting} is not one of auto, nccl, tcp, local";
                return CollectiveKind.Tcp;
        }
    }
}
