using System.Net.Sockets;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>Settings of a <see cref="TcpCollective"/>; every rank of a world must use the same values.</summary>
public sealed record TcpCollectiveOptions
{
    /// <summary>Longest time one operation may take before the communicator aborts itself.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Deadline for forming the ring (peers start at different times, so connects are retried until then).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Identifies one incarnation of the world (the coordinator's generation, say). A peer presenting another token
    /// is rejected, so a straggler from an aborted generation cannot join the new ring.
    /// </summary>
    public string SessionToken { get; init; } = "";

    /// <summary>Pipelining granularity: tensors travel in frames of at most this many bytes.</summary>
    public int ChunkBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Between ranks whose endpoints are loopback addresses (processes on one machine) the ring runs over Unix
    /// domain sockets in the abstract namespace, named after the endpoint, with the same handshake and hooks:
    /// on the 2-core test machine they move about twice what loopback TCP does, as NCCL prefers its shared-memory
    /// transport within a node. Every rank of a world must use the same value.
    /// </summary>
    public bool UnixSocketsOnLoopback { get; init; } = OperatingSystem.IsLinux();

    /// <summary>Kernel socket buffer sizes (SO_SNDBUF / SO_RCVBUF).</summary>
    public int SocketBufferBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Optional hook run on every ring connection after the handshake (peer rank, true on the connecting side),
    /// e.g. a shared-secret challenge-response; throwing rejects the connection. A TLS transport would replace
    /// the plain socket link at the same point.
    /// </summary>
    public Func<Socket, int, bool, CancellationToken, Task>? Authenticate { get; init; }

    /// <summary>
    /// Optional transport for every ring connection, run after <see cref="Authenticate"/> with the same arguments:
    /// returns the stream the ring then reads and writes instead of the raw socket (e.g. a mutually authenticated
    /// SslStream, see ActorFace.Model.Communication.Security.CollectiveTls). Throwing rejects the connection.
    /// </summary>
    public Func<Socket, int, bool, CancellationToken, Task<Stream>>? WrapStream { get; init; }

    internal void Validate()
    {
        if (Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "must be positive");
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "must be positive");
        if (ChunkBytes < 1024) throw new ArgumentOutOfRangeException(nameof(ChunkBytes), ChunkBytes, "must be at least 1024");
        if (System.Text.Encoding.UTF8.GetByteCount(SessionToken) > 1024)
            throw new ArgumentOutOfRangeException(nameof(SessionToken), "session token longer than 1024 bytes");
    }
}
