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
/// </summary>
public sealed class FileLease : Lease
{
    // One lock per path and process: flock is per open file, so a second open in this process would fail too.
    private static readonly Dictionary<string, FileStream> Held = [];

    private readonly string _path;
    private readonly TimeSpan _hold;
    private int _releaseTicket;

    public FileLease(LeaseSettings settings, ExtendedActorSystem system) : base(settings)
    {
        var path = settings.LeaseConfig.GetString("path", "");
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("the file lease needs a `path` (actorface-file-lease.path)");
        _path = Path.GetFullPath(path);
        _hold = settings.LeaseConfig.GetTimeSpan("hold-after-release", TimeSpan.FromSeconds(10));
    }

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
                return true;
            }
            catch (IOException)
            {
                return false; // held by a live process on the other side
            }
        }
    }
}
