namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// The sticky "this communicator is dead" state: the first reason wins, a token wakes every waiter, and callbacks
/// (closing sockets, cancelling peers) run once.
/// </summary>
internal sealed class AbortSignal
{
    readonly CancellationTokenSource cts = new();
    readonly List<Action> onAbort = new();
    string? reason;

    public bool IsAborted => Volatile.Read(ref reason) != null;
    public string? Reason => Volatile.Read(ref reason);
    public CancellationToken Token => cts.Token;

    /// <summary>Registers work to run on abort (immediately if already aborted).</summary>
    public void OnAbort(Action action)
    {
        lock (onAbort)
        {
            if (reason == null) { onAbort.Add(action); return; }
        }
        action();
    }

    /// <summary>Returns true when this call was the one that aborted.</summary>
    public bool Abort(string why)
    {
        Action[] actions;
        lock (onAbort)
        {
            if (reason != null) return false;
            Volatile.Write(ref reason, why);
            actions = onAbort.ToArray();
            onAbort.Clear();
        }
        try { cts.Cancel(); } catch (AggregateException) { }
        foreach (var action in actions)
        {
            try { action(); } catch { /* closing an already broken socket must not hide the abort */ }
        }
        return true;
    }

    public void ThrowIfAborted()
    {
        var r = Reason;
        if (r != null) throw new CollectiveAbortedException(r);
    }

    public CollectiveAbortedException Exception(Exception? inner = null) =>
        new(Reason ?? "unknown reason", inner);
}
