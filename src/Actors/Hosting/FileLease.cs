using Akka.Actor;
using Akka.Coordination;

namespace ActorFace.Actors.Hosting;

/// <summary>
/// The split-brain resolver's lease (`lease-majority`): an exclusive OS lock (flock, taken by .NET for
/// <see cref="FileShare.None"/>) on `&lt;output&gt;/cluster.lease`. The process that first decides a partition takes the
/// lock and keeps it until it exits; any other process can take it only once the holder's process is gone (the OS
/// drops a dead process's locks at once). So after a crash the survivors get the lease immediately, while of two
/// live sides of a partition only the one holding the lock keeps running — the other downs itself, and two sides can
/// never both train into the same output. Needs a file system with working locks for `output` (local, NFSv4).
/// The lock belongs to a process but the decision to a side: the holder writes its cluster address next to the lock
/// (`cluster.lease.owner`), and another node's acquire succeeds while that holder is a reachable member of its own
/// side. Without this, a newer leader of the same side (the lowest address after a restart) could not take the lock
/// its side's previous decider still holds and would down its whole side (seen in the soak).
/// </summary>
public sealed class FileLease : Lease
{
    // One lock per path and process: flock is per open file, so a second open in this process would fail too.
    private static readonly Dictionary<string, FileStream> Held = [];

    private readonly string _path;
    private readonly TimeSpan _hold;
    private readonly string _self;
    private readonly Func<string, bool> _reachableMember;
    private int _releaseTicket;

    public FileLease(LeaseSettings settings, ExtendedActorSystem system) : base(settings)
    {
        var path = settings.LeaseConfig.GetString("path", "");
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("the file lease needs a `path` (actorface-file-lease.path)");
        _path = Path.GetFullPath(path);
        _hold = settings.LeaseConfig.GetTimeSpan("hold-after-release", TimeSpan.FromSeconds(10));
        if (system is null)
            (_self, _reachableMember) = (settings.OwnerName, _ => false);
        else
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            _self = cluster.SelfAddress.ToString();
            _reachableMember = address => IsReachableMember(cluster.State, address);
        }
    }

    private string OwnerPath => _path + ".owner";

    /// <summary>An Up member that this node does not see as unreachable: it is on this side of any partition.</summary>
    public static bool IsReachableMember(Akka.Cluster.ClusterEvent.CurrentClusterState state, string address) =>
        state.Members.Any(m => m.Address.ToString() == address && m.Status == Akka.Cluster.MemberStatus.Up) &&
        !state.Unreachable.Any(m => m.Address.ToString() == address);

    public override Task<bool> Acquire() => Task.FromResult(TryLock());

    public override Task<bool> Acquire(Action<Exception> leaseLostCallback) => Acquire();

    public override Task<bool> Release()
    {
        var ticket = Interlocked.Increment(ref _releaseTicket);
        _ = Task.Delay(_hold).ContinueWith(_ =>
        {
            lock (Held)
            {
                if (ticket != Volatile.Read(ref _releaseTicket) || !Held.Remove(_path, out var stream)) return;
                stream.Dispose();
            }
        }, TaskScheduler.Default);
        return Task.FromResult(true);
    }

    public override bool CheckLease()
    {
        lock (Held) return Held.ContainsKey(_path);
    }

    private bool TryLock()
    {
        lock (Held)
        {
            Interlocked.Increment(ref _releaseTicket); // a pending delayed release no longer applies
            if (Held.ContainsKey(_path)) return true;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                Held[_path] = stream;
                var owner = System.Text.Encoding.UTF8.GetBytes($"{Settings.OwnerName} pid {Environment.ProcessId} {DateTime.UtcNow:O}\n");
                stream.SetLength(0);
                stream.Write(owner);
                stream.Flush(flushToDisk: true);
                File.WriteAllText(OwnerPath, _self);
                return true;
            }
            catch (IOException)
            {
                // Held by a live process: fine if it is a reachable member of this side, else the other side has it.
                try { return File.ReadAllText(OwnerPath).Trim() is { Length: > 0 } holder && holder != _self && _reachableMember(holder); }
                catch (IOException) { return false; }
            }
        }
    }
}
