using System.Net;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// Ranks in different processes or hosts, connected in a ring over plain TCP, or Unix domain sockets between ranks
/// on loopback endpoints (each rank connects to its right neighbour and accepts its left one). Bandwidth-optimal ring algorithms: AllReduce = ring reduce-scatter +
/// ring all-gather (each rank sends 2·(W−1)/W of the tensor), pipelined in frames of ChunkBytes. Tensor bytes go
/// straight from tensor memory to the socket. A timeout, an Abort, or a dead neighbour closes the sockets, so
/// every rank blocked in the ring fails within moments.
/// </summary>
public sealed unsafe partial class TcpCollective : ICollective
{
    readonly TcpCollectiveOptions options;
    readonly AbortSignal abort;
    readonly TcpRingLink? link;
    readonly Timer watchdog;
    readonly byte[] scratch;
    readonly int chunk;
    long seq;
    int busy;
    string current = "idle";

    TcpCollective(int rank, int worldSize, TcpRingLink? link, TcpCollectiveOptions options, AbortSignal signal)
    {
        abort = signal;
        Rank = rank;
        WorldSize = worldSize;
        this.link = link;
        this.options = options;
        chunk = options.ChunkBytes & ~15; // a multiple of every element size
        scratch = GC.AllocateUninitializedArray<byte>(chunk, pinned: true);
        watchdog = new Timer(_ => OnTimeout());
    }

    /// <summary>
    /// Joins the ring: listens on <c>endpoints[rank]</c>, connects to <c>endpoints[(rank+1) % W]</c>; blocks until
    /// both neighbours are connected and have presented the same world size and session token, or throws
    /// <see cref="TimeoutException"/> after <see cref="TcpCollectiveOptions.ConnectTimeout"/>.
    /// </summary>
    public static TcpCollective Connect(int rank, IReadOnlyList<IPEndPoint> endpoints, TcpCollectiveOptions? options = null)
    {
        options ??= new TcpCollectiveOptions();
        options.Validate();
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count < 1) throw new ArgumentException("endpoint list is empty", nameof(endpoints));
        if (rank < 0 || rank >= endpoints.Count)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {endpoints.Count})");
        var signal = new AbortSignal();
        if (endpoints.Count == 1) return new TcpCollective(0, 1, null, options, signal);
        var (toRight, fromLeft) = TcpRendezvous.Form(rank, endpoints, options);
        var link = new TcpRingLink(toRight.Socket, fromLeft.Socket, signal, rank, endpoints.Count, toRight.Stream, fromLeft.Stream);
        return new TcpCollective(rank, endpoints.Count, link, options, signal);
    }

    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>Socket families of the ring links (InterNetwork/InterNetworkV6 for TCP, Unix on loopback); null for a world of one.</summary>
    public (System.Net.Sockets.AddressFamily ToRight, System.Net.Sockets.AddressFamily FromLeft)? Transports => link?.Families;
    public bool IsAborted => abort.IsAborted;

    public void Abort(string reason) => abort.Abort($"rank {Rank}: {reason}");

    public void Dispose()
    {
        if (!abort.IsAborted) abort.Abort($"rank {Rank} disposed its communicator");
        watchdog.Dispose();
        link?.Dispose();
    }

    void OnTimeout()
    {
        if (Volatile.Read(ref busy) == 1)
            abort.Abort($"timeout: rank {Rank} spent more than {options.Timeout.TotalSeconds:0.###} s in {Volatile.Read(ref current)}");
    }

    CallScope Enter(CollectiveOpKind kind)
    {
        abort.ThrowIfAborted();
        if (Interlocked.Exchange(ref busy, 1) != 0)
            throw new InvalidOperationException($"rank {Rank}: collectives on one communicator must not run concurrently");
        seq++;
        Volatile.Write(ref current, $"op #{seq} {kind}");
        watchdog.Change(options.Timeout, Timeout.InfiniteTimeSpan);
        return new CallScope(this);
    }

    readonly struct CallScope(TcpCollective owner) : IDisposable
    {
        public void Dispose()
        {
            owner.watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref owner.current, "idle");
            Volatile.Write(ref owner.busy, 0);
        }
    }

    /// <summary>Bad arguments break the lock-step of the ring, so they abort it (the peers see the link close).</summary>
    ArgumentException Fail(string message)
    {
        abort.Abort($"rank {Rank}: {message}");
        return new ArgumentException(message);
    }

    /// <summary>Unexpected failures half-way leave peers waiting for frames: abort instead.</summary>
    T Guard<T>(Func<T> body)
    {
        try { return body(); }
        catch (Exception e) when (e is not CollectiveAbortedException && e is not ArgumentException && e is not InvalidOperationException)
        {
            abort.Abort($"rank {Rank} failed inside a collective: {e.Message}");
            link?.WaitIdle();
            throw abort.Exception(e);
        }
        catch (CollectiveAbortedException)
        {
            link?.WaitIdle();
            throw;
        }
    }
}
