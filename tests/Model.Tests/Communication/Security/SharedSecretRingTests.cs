using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Communication.Security;
using ActorFace.Model.Tests.Communication.Collectives;

namespace ActorFace.Model.Tests.Communication.Security;

public sealed class SharedSecretRingTests
{
    static TcpCollectiveOptions WithSecret(ClusterSecret secret, double connectSeconds = 20) =>
        SecureRing.Options(o => o with { Authenticate = new SharedSecretAuthenticator(secret).Hook }, connectSeconds);

    [Fact]
    public async Task SameSecretPassesAndAnotherSecretFailsOnBothSides()
    {
        var secret = ClusterSecret.Generate();
        Assert.Null(await Exchange(secret, secret));
        var (connector, acceptor) = (await Exchange(secret, ClusterSecret.Generate()))!.Value;
        Assert.IsType<AuthenticationException>(connector);
        Assert.IsType<AuthenticationException>(acceptor);
        Assert.Contains("does not hold this cluster's secret", connector.Message);
    }

    static async Task<(Exception Connector, Exception Acceptor)?> Exchange(ClusterSecret a, ClusterSecret b)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var server = await accept;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var c = Capture(new SharedSecretAuthenticator(a).AuthenticateAsync(client.GetStream(), "acceptor", true, cts.Token));
        var s = Capture(new SharedSecretAuthenticator(b).AuthenticateAsync(server.GetStream(), "connector", false, cts.Token));
        var (ce, se) = (await c, await s);
        if (ce == null && se == null) return null;
        return (ce!, se!);
    }

    static async Task<Exception?> Capture(Task task)
    {
        try { await task; return null; }
        catch (Exception e) { return e; }
    }

    [Fact]
    public void RankWithWrongSecretIsRefused()
    {
        var endpoints = FreePorts.Loopback(2);
        var good = ClusterSecret.Generate();
        var results = SecureRing.Connect(endpoints, r => WithSecret(r == 1 ? ClusterSecret.Generate() : good, connectSeconds: 4));
        foreach (var (comm, _) in results) comm?.Dispose();
        Assert.All(results, r => Assert.Null(r.Comm));
        Assert.Contains(results, r => r.Error!.ToString().Contains("cluster-secret check"));
    }

    [Fact]
    public void RingFormsAndWorksWhileStrangersWithoutTheSecretTryToGetIn()
    {
        var endpoints = FreePorts.Loopback(3);
        var secret = ClusterSecret.Generate();
        using var formed = new CancellationTokenSource();

        // Ranks 0 and 1 start first; rank 2 only once every attacker has been turned away at least once, so the
        // attacks certainly hit listening ranks that wait for their real neighbour.
        var early = Enumerable.Range(0, 2).Select(r => StartRank(r, endpoints, WithSecret(secret))).ToList();

        // An impostor with a valid hello as rank 2 (the session token is not a secret) but the wrong secret, a
        // client sending garbage, and one sending a well-formed tensor frame instead of answering the challenge.
        var impostor = new Attacker(endpoints[0], formed.Token, async (s, ct) =>
        {
            await s.SendAsync(Hello(2, 3, "gen-1"), ct);
            await ReadHelloReply(s, ct);
            await new SharedSecretAuthenticator(ClusterSecret.Generate()).Hook(s, 0, true, ct);
        });
        var garbage = new Attacker(endpoints[0], formed.Token, async (s, ct) =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + new string('A', 4000)), ct);
            await WaitClosed(s, ct);
        });
        var injector = new Attacker(endpoints[1], formed.Token, async (s, ct) =>
        {
            await s.SendAsync(Hello(0, 3, "gen-1"), ct);
            await ReadHelloReply(s, ct);
            var frame = new byte[24 + 4096];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, 0x4D524641); // "AFRM": a data frame header
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(12), 4096);
            await s.SendAsync(frame, ct);
            await WaitClosed(s, ct);
        });
        var attackers = new[] { impostor, garbage, injector };
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (attackers.Any(a => a.TurnedAway == 0) && DateTime.UtcNow < deadline) Thread.Sleep(20);

        var last = StartRank(2, endpoints, WithSecret(secret));
        var results = early.Append(last).Select(t => t.Result).ToArray();
        formed.Cancel();
        Task.WaitAll(attackers.Select(a => a.Loop).ToArray());
        var world = results.Select(r => (ICollective)(r.Comm ?? throw new Xunit.Sdk.XunitException($"rank failed: {r.Error}"))).ToArray();
        try
        {
            SecureRing.AssertAllReduceWorks(world);
            // Once formed, the ring listens no more: nobody can connect to a rank's endpoint.
            using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Assert.ThrowsAny<SocketException>(() => late.Connect(endpoints[0]));
            SecureRing.AssertAllReduceWorks(world);
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
        Assert.All(attackers, a => Assert.Equal(0, a.Admitted));
        Assert.All(attackers, a => Assert.True(a.TurnedAway > 0, "an attacker never reached a listening rank"));
        Assert.Contains(impostor.Reasons, r => r.Contains("does not hold this cluster's secret"));
    }

    static Task<(TcpCollective? Comm, Exception? Error)> StartRank(int rank, IReadOnlyList<IPEndPoint> endpoints, TcpCollectiveOptions options) =>
        Task.Factory.StartNew(() =>
        {
            try { return ((TcpCollective?)TcpCollective.Connect(rank, endpoints, options), (Exception?)null); }
            catch (Exception e) { return (null, e); }
        }, TaskCreationOptions.LongRunning);

    /// <summary>Repeats an attack against one endpoint until the ring has formed, counting how each try ended.</summary>
    sealed class Attacker
    {
        readonly List<string> reasons = [];
        int admitted, turnedAway;

        public Attacker(IPEndPoint target, CancellationToken formed, Func<Socket, CancellationToken, Task> body)
        {
            Loop = Task.Run(async () =>
            {
                while (!formed.IsCancellationRequested)
                {
                    using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(formed);
                    attempt.CancelAfter(TimeSpan.FromSeconds(10));
                    try { await s.ConnectAsync(target, attempt.Token); }
                    catch (Exception) { await Pause(formed); continue; } // not listening (yet / any more)
                    try
                    {
                        await body(s, attempt.Token);
                        Interlocked.Increment(ref admitted);
                    }
                    catch (Exception e) when (!formed.IsCancellationRequested)
                    {
                        lock (reasons) reasons.Add(e.Message);
                        Interlocked.Increment(ref turnedAway);
                    }
                    catch (Exception) { }
                    await Pause(formed);
                }
            });
        }

        static async Task Pause(CancellationToken ct)
        {
            try { await Task.Delay(20, ct); } catch (OperationCanceledException) { }
        }

        public Task Loop { get; }
        public int Admitted => Volatile.Read(ref admitted);
        public int TurnedAway => Volatile.Read(ref turnedAway);
        public IReadOnlyList<string> Reasons { get { lock (reasons) return reasons.ToList(); } }
    }

    static async Task WaitClosed(Socket s, CancellationToken ct)
    {
        var buffer = new byte[256];
        while (await s.ReceiveAsync(buffer, ct) > 0) { }
        throw new IOException("closed by the rank");
    }

    static byte[] Hello(int rank, int world, string token)
    {
        var t = Encoding.UTF8.GetBytes(token);
        var b = new byte[24 + t.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0x52434641);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(6), rank);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), world);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 1024);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), t.Length);
        t.CopyTo(b, 22);
        return b; // reject-reason length 0 in the last two bytes
    }

    static async Task ReadHelloReply(Socket s, CancellationToken ct)
    {
        var head = new byte[22];
        await ReadExact(s, head, ct);
        var rest = new byte[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(18)) + 2];
        await ReadExact(s, rest, ct);
        var why = new byte[BinaryPrimitives.ReadUInt16LittleEndian(rest.AsSpan(rest.Length - 2))];
        await ReadExact(s, why, ct);
        if (why.Length > 0) throw new IOException("hello rejected: " + Encoding.UTF8.GetString(why));
    }

    static async Task ReadExact(Socket s, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var n = await s.ReceiveAsync(buffer, ct);
            if (n == 0) throw new IOException("closed");
            buffer = buffer[n..];
        }
    }
}
