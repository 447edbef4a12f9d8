using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// Forms the ring: listen on our own endpoint (and, for a loopback endpoint, on its Unix socket) and accept the left
/// neighbour, connect to the right neighbour, retrying until the deadline. Both sides present (rank, world size,
/// chunk size, session token); anything that does not match is turned away with a reason, and the accepting side
/// keeps waiting for the right peer.
/// </summary>
internal static class TcpRendezvous
{
    /// <summary>One ring connection: the socket and, when <see cref="TcpCollectiveOptions.WrapStream"/> is set, the stream over it.</summary>
    public readonly record struct Connection(Socket Socket, Stream? Stream);

    const uint Magic = 0x52434641; // "AFCR"
    const ushort Version = 1;

    public static (Connection ToRight, Connection FromLeft) Form(int rank, IReadOnlyList<IPEndPoint> endpoints, TcpCollectiveOptions options)
    {
        int world = endpoints.Count;
        int right = (rank + 1) % world, left = (rank - 1 + world) % world;
        using var cts = new CancellationTokenSource(options.ConnectTimeout);
        var listeners = new List<Socket>();
        try
        {
            listeners.Add(Listen(endpoints[rank], endpoints[rank], rank, options));
            // The left neighbour takes the Unix socket when it sees a loopback endpoint, a remote one takes TCP.
            if (UsesUnixSocket(endpoints[rank], options)) listeners.Add(Listen(UnixEndPoint(endpoints[rank]), endpoints[rank], rank, options));
            var accept = Task.Run(() => AcceptLeftOnAny(listeners, rank, left, world, options, cts.Token));
            var connect = Task.Run(() => ConnectRight(endpoints[right], rank, right, world, options, cts.Token));
            try
            {
                Task.WaitAll(accept, connect);
            }
            catch (AggregateException e)
            {
                cts.Cancel();
                Cleanup(accept); Cleanup(connect);
                var inner = e.InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.InnerExceptions[0];
                if (inner is OperationCanceledException)
                    throw new TimeoutException($"rank {rank}: ring not formed within {options.ConnectTimeout.TotalSeconds:0.#} s " +
                                               $"(right {endpoints[right]}, left rank {left})", inner);
                throw inner is IOException or TimeoutException or InvalidOperationException ? inner
                    : new IOException($"rank {rank}: ring setup failed: {inner.Message}", inner);
            }
            return (connect.Result, accept.Result);
        }
        finally
        {
            foreach (var listener in listeners) listener.Dispose();
        }
    }

    static bool UsesUnixSocket(IPEndPoint endpoint, TcpCollectiveOptions options) =>
        options.UnixSocketsOnLoopback && IPAddress.IsLoopback(endpoint.Address);

    /// <summary>Abstract-namespace name (no file to clean up; freed when the process dies), one per TCP endpoint.</summary>
    static UnixDomainSocketEndPoint UnixEndPoint(IPEndPoint endpoint) => new($"\0actorface-collective-{endpoint}");

    static Socket Listen(EndPoint local, IPEndPoint endpoint, int rank, TcpCollectiveOptions options)
    {
        var unix = local is UnixDomainSocketEndPoint;
        var listener = new Socket(local.AddressFamily, SocketType.Stream, unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            Configure(listener, options);
            if (!unix) listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(local);
            listener.Listen(16);
            return listener;
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"rank {rank}: cannot listen on {endpoint}{(unix ? " (its Unix socket)" : "")}: {e.Message}", e);
        }
    }

    static void Cleanup(Task<Connection> task)
    {
        try { if (task.Wait(1000)) { task.Result.Stream?.Dispose(); task.Result.Socket.Dispose(); } } catch { }
    }

    static void Configure(Socket socket, TcpCollectiveOptions options)
    {
        socket.ReceiveBufferSize = options.SocketBufferBytes;
        socket.SendBufferSize = options.SocketBufferBytes;
    }

    static async Task<Connection> ConnectRight(IPEndPoint endpoint, int rank, int right, int world, TcpCollectiveOptions options, CancellationToken ct)
    {
        string last = "no attempt";
        string? rejection = null; // kept apart: a later "connection refused" must not hide why we were turned away
        while (true)
        {
            if (ct.IsCancellationRequested)
                throw new TimeoutException($"rank {rank}: could not connect to rank {right} at {endpoint} within " +
                                           $"{options.ConnectTimeout.TotalSeconds:0.#} s; last error: {last}" +
                                           (rejection != null && rejection != last ? $"; {rejection}" : ""));
            var unix = UsesUnixSocket(endpoint, options);
            var socket = unix ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                              : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                Configure(socket, options);
                if (!unix) socket.NoDelay = true;
                await socket.ConnectAsync(unix ? UnixEndPoint(endpoint) : endpoint, ct);
                await WriteHello(socket, rank, world, options, ct);
                var (ok, peerRank, reason) = await ReadHello(socket, world, options, ct);
                if (ok && peerRank != right) { ok = false; reason = $"{endpoint} is rank {peerRank}, expected rank {right}"; }
                if (!ok)
                {
                    last = rejection = $"rejected: {reason}";
                    socket.Dispose();
                }
                else
                {
                    if (options.Authenticate != null) await options.Authenticate(socket, right, true, ct);
                    var stream = options.WrapStream != null ? await options.WrapStream(socket, right, true, ct) : null;
                    return new Connection(socket, stream);
                }
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                last = e.Message;
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                if (ct.IsCancellationRequested) continue;
                throw;
            }
            try { await Task.Delay(50, ct); } catch (OperationCanceledException) { }
        }
    }

    static async Task<Connection> AcceptLeftOnAny(IReadOnlyList<Socket> listeners, int rank, int left, int world,
                                                  TcpCollectiveOptions options, CancellationToken ct)
    {
        if (listeners.Count == 1) return await AcceptLeft(listeners[0], rank, left, world, options, ct);
        using var first = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var accepts = listeners.Select(l => AcceptLeft(l, rank, left, world, options, first.Token)).ToList();
        var winner = await Task.WhenAny(accepts);
        first.Cancel();
        foreach (var other in accepts.Where(a => a != winner)) Cleanup(other);
        return await winner;
    }

    static async Task<Connection> AcceptLeft(Socket listener, int rank, int left, int world, TcpCollectiveOptions options, CancellationToken ct)
    {
        while (true)
        {
            var socket = await listener.AcceptAsync(ct);
            try
            {
                if (socket.ProtocolType == ProtocolType.Tcp) socket.NoDelay = true;
                using var hello = CancellationTokenSource.CreateLinkedTokenSource(ct);
                hello.CancelAfter(TimeSpan.FromSeconds(5)); // a silent stranger must not block the real peer
                var (ok, peerRank, reason) = await ReadHello(socket, world, options, hello.Token);
                if (ok && peerRank != left) { ok = false; reason = $"rank {rank} accepts only rank {left}, not rank {peerRank}"; }
                await WriteHello(socket, rank, world, options, hello.Token, ok ? null : reason);
                if (ok)
                {
                    // Bounded by the hello deadline too, and a failed proof only turns this stranger away.
                    if (options.Authenticate != null) await options.Authenticate(socket, left, false, hello.Token);
                    var stream = options.WrapStream != null ? await options.WrapStream(socket, left, false, hello.Token) : null;
                    return new Connection(socket, stream);
                }
                socket.Dispose();
            }
            catch (Exception e) when (e is SocketException or IOException or AuthenticationException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>magic u32, version u16, rank i32, world i32, chunk i32, token (u16 length + UTF-8), reject reason (u16 length + UTF-8).</summary>
    static async Task WriteHello(Socket socket, int rank, int world, TcpCollectiveOptions options, CancellationToken ct, string? reject = null)
    {
        var token = Encoding.UTF8.GetBytes(options.SessionToken);
        var why = Encoding.UTF8.GetBytes(reject ?? "");
        var buffer = new byte[22 + token.Length + 2 + why.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(6), rank);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(10), world);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(14), options.ChunkBytes);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(18), token.Length);
        token.CopyTo(buffer, 22);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(22 + token.Length), (ushort)why.Length);
        why.CopyTo(buffer, 24 + token.Length);
        await socket.SendAsync(buffer, SocketFlags.None, ct);
    }

    static async Task<(bool Ok, int Rank, string Reason)> ReadHello(Socket socket, int world, TcpCollectiveOptions options, CancellationToken ct)
    {
        var head = new byte[22];
        await ReadExact(socket, head, ct);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != Magic) return (false, -1, "not an ActorFace collective peer (bad magic)");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(4));
        int peerRank = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(6));
        int peerWorld = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(10));
        int peerChunk = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(14));
        int tokenLength = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(18));
        if (tokenLength is < 0 or > 1024) return (false, peerRank, $"bad session token length {tokenLength}");
        var rest = new byte[tokenLength + 2];
        await ReadExact(socket, rest, ct);
        var token = Encoding.UTF8.GetString(rest, 0, tokenLength);
        int whyLength = BinaryPrimitives.ReadUInt16LittleEndian(rest.AsSpan(tokenLength));
        var why = new byte[whyLength];
        await ReadExact(socket, why, ct);
        if (whyLength > 0) return (false, peerRank, Encoding.UTF8.GetString(why));
        if (version != Version) return (false, peerRank, $"protocol version {version}, expected {Version}");
        if (token != options.SessionToken) return (false, peerRank, $"session token '{token}' does not match '{options.SessionToken}' (stale generation?)");
        if (peerWorld != world) return (false, peerRank, $"world size {peerWorld}, expected {world}");
        if (peerChunk != options.ChunkBytes) return (false, peerRank, $"chunk size {peerChunk}, expected {options.ChunkBytes}");
        return (true, peerRank, "");
    }

    static async Task ReadExact(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) throw new IOException("peer closed the connection during the handshake");
            buffer = buffer[n..];
        }
    }
}
