using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Actors.Workers;

/// <summary>
/// The collective of one rank, reachable from outside the rank's (blocked) thread: the node aborts it so that a
/// rank stuck in a collective call fails fast when the coordinator aborts the generation. An abort that comes before
/// the collective exists is applied as soon as it is set.
/// </summary>
public sealed class CollectiveSlot : IDisposable
{
    private readonly object _gate = new();
    private ICollective? _collective;
    private string? _abortReason;
    private bool _disposed;

    public string? AbortReason { get { lock (_gate) return _abortReason; } }

    public void Set(ICollective collective)
    {
        lock (_gate)
        {
            if (_disposed) { collective.Dispose(); throw new ObjectDisposedException(nameof(CollectiveSlot)); }
            _collective = collective;
            if (_abortReason is not null) collective.Abort(_abortReason);
        }
    }

    public void Abort(string reason)
    {
        lock (_gate)
        {
            _abortReason ??= reason;
            _collective?.Abort(reason);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _collective?.Dispose();
            _collective = null;
        }
    }
}
