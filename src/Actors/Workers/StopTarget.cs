namespace ActorFace.Actors.Workers;

/// <summary>
/// The step after which a graceful stop ends the current lease (long.MaxValue: none), shared by a node's ranks of one
/// generation. The node writes it when the coordinator's StopAt arrives; each GpuWorker reads it before and after
/// every step. A field rather than a message because a rank's mailbox is queued behind the batches it prefetched:
/// a message could arrive steps too late, after the rank had passed the target.
/// </summary>
public sealed class StopTarget
{
    private long _step = long.MaxValue;

    public long Step => Volatile.Read(ref _step);

    public void Set(long step) => Volatile.Write(ref _step, step);
}

/// <summary>Local message to a node's WorkerNode: this process got a stop signal; ask the coordinator to stop the job.</summary>
public sealed record RequestStop(string Reason);
