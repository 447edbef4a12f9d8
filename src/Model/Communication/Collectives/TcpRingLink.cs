using System.Buffers.Binary;
using System.Net.Sockets;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>Fixed 24-byte header in front of every frame, checked by the receiver so that ranks that disagree on
/// the operation sequence, dtype or sizes fail with a message instead of misreading bytes.</summary>
internal readonly record struct FrameHeader(uint Seq, CollectiveOpKind Kind, byte Dtype, ushort Step, int Length, long Total)
{
    public const int Size = 24;
    const uint Magic = 0x4D524641; // "AFRM"

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], Seq);
        b[8] = (byte)Kind;
        b[9] = Dtype;
        BinaryPrimitives.WriteUInt16LittleEndian(b[10..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], Length);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], Total);
    }

    public static FrameHeader? Read(ReadOnlySpan<byte> b)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(b) != Magic) return null;
        return new FrameHeader(BinaryPrimitives.ReadUInt32LittleEndian(b[4..]), (CollectiveOpKind)b[8], b[9],
            BinaryPrimitives.ReadUInt16LittleEndian(b[10..]), BinaryPrimitives.ReadInt32LittleEndian(b[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[16..]));
    }

    public override string ToString() =>
        $"op #{Seq} {Kind} {(TorchSharp.torch.ScalarType)(Dtype & 63)}/{(ReduceOp)(Dtype >> 6)} step {Step}, frame {Length} of {Total} bytes";
}

/// <summary>
/// The two sockets of one rank in the ring and a dedicated sender thread. Sends are queued (pointer, length,
/// header) and go out in order while the caller's thread receives, reduces and queues the next frames: a rank
/// streams to its right while it reads from its left. Any socket error, or EOF, aborts the communicator.
/// </summary>
internal sealed unsafe class TcpRingLink : IDisposable
{
    readonly Socket toRight, fromLeft;
    readonly Stream? rightStream, leftStream; // TLS (or another wrapper) when configured; the sockets still shut down
    readonly AbortSignal abort;
    readonly int rank, left, right;
    readonly Thread sender;
    readonly Queue<(IntPtr Data, FrameHeader Header)> queue = new();
    readonly object sync = new();
    long queued, sent;
    bool sending, stopped;

    public TcpRingLink(Socket toRight, Socket fromLeft, AbortSignal abort, int rank, int worldSize,
                       Stream? rightStream = null, Stream? leftStream = null)
    {
        this.toRight = toRight;
        this.fromLeft = fromLeft;
        this.rightStream = rightStream;
        this.leftStream = leftStream;
        this.abort = abort;
        this.rank = rank;
        left = (rank - 1 + worldSize) % worldSize;
        right = (rank + 1) % worldSize;
        abort.OnAbort(CloseSockets);
        sender = new Thread(SendLoop) { IsBackground = true, Name = $"collective-send-r{rank}" };
        sender.Start();
    }

    /// <summary>Sockets are shut down (not just closed) so that a thread blocked in recv/send wakes at once.</summary>
    void CloseSockets()
    {
        foreach (var s in new[] { toRight, fromLeft })
        {
            try { s.Shutdown(SocketShutdown.Both); } catch { }
            try { s.Close(0); } catch { }
        }
        lock (sync) Monitor.PulseAll(sync);
    }

    public (AddressFamily ToRight, AddressFamily FromLeft) Families => (toRight.AddressFamily, fromLeft.AddressFamily);

    public void Enqueue(byte* data, FrameHeader header)
    {
        lock (sync)
        {
            queue.Enqueue(((IntPtr)data, header));
            queued++;
            Monitor.PulseAll(sync);
        }
    }

    /// <summary>Blocks until every queued frame has left this process (the caller may then reuse its buffers).</summary>
    public void WaitSent()
    {
        lock (sync)
        {
            while (sent < queued)
            {
                if (abort.IsAborted) break;
                Monitor.Wait(sync, 100);
            }
        }
        if (abort.IsAborted) { WaitIdle(); throw abort.Exception(); }
    }

    /// <summary>After an abort, wait (briefly) until the sender no longer reads caller memory.</summary>
    public void WaitIdle()
    {
        lock (sync)
        {
            queue.Clear();
            var until = DateTime.UtcNow.AddSeconds(1);
            while (sending && DateTime.UtcNow < until) Monitor.Wait(sync, 20);
        }
    }

    void SendLoop()
    {
        Span<byte> head = stackalloc byte[FrameHeader.Size];
        while (true)
        {
            (IntPtr Data, FrameHeader Header) item;
            lock (sync)
            {
                while (queue.Count == 0 && !stopped) Monitor.Wait(sync);
                if (stopped) return;
                if (abort.IsAborted) { queue.Clear(); continue; }
                item = queue.Dequeue();
                sending = true;
            }
            try
            {
                item.Header.Write(head);
                SendAll(head);
                SendAll(new ReadOnlySpan<byte>((void*)item.Data, item.Header.Length));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                abort.Abort($"rank {rank}: sending to rank {right} failed ({e.Message}); the peer died or aborted");
            }
            finally
            {
                lock (sync)
                {
                    sending = false;
                    sent++;
                    Monitor.PulseAll(sync);
                }
            }
        }
    }

    void SendAll(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (rightStream != null) { rightStream.Write(data); return; }
            int n = toRight.Send(data);
            data = data[n..];
        }
    }

    public FrameHeader ReceiveHeader()
    {
        Span<byte> head = stackalloc byte[FrameHeader.Size];
        ReceiveExact(head);
        return FrameHeader.Read(head) ?? throw Broken($"rank {rank}: garbage from rank {left} where a frame header was expected");
    }

    public void ReceiveExact(Span<byte> data)
    {
        try
        {
            while (data.Length > 0)
            {
                int n = leftStream?.Read(data) ?? fromLeft.Receive(data);
                if (n == 0)
                    throw Broken($"rank {rank}: rank {left} closed the connection (it died or aborted)");
                data = data[n..];
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            throw Broken($"rank {rank}: receiving from rank {left} failed ({e.Message}); the peer died or aborted", e);
        }
    }

    /// <summary>Aborts (unless already aborted, in which case the first reason stands) and returns the exception to throw.</summary>
    public CollectiveAbortedException Broken(string reason, Exception? inner = null)
    {
        abort.Abort(reason);
        WaitIdle();
        return abort.Exception(inner);
    }

    public void Dispose()
    {
        lock (sync) { stopped = true; Monitor.PulseAll(sync); }
        CloseSockets();
        sender.Join(2000);
        try { rightStream?.Dispose(); } catch { }
        try { leftStream?.Dispose(); } catch { }
    }
}
