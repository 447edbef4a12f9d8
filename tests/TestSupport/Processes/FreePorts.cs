using System.Net;
using System.Net.Sockets;

namespace ActorFace.Tests;

/// <summary>Free TCP ports on 127.0.0.1 for tests that start listeners or processes (the OS picks; another process may
/// still take a port before the test binds it, which on a test machine is rare enough).</summary>
public static class FreePorts
{
    /// <summary><paramref name="count"/> distinct free loopback endpoints: every probe socket is held until all are
    /// chosen, so the same port is never handed out twice.</summary>
    public static IReadOnlyList<IPEndPoint> Loopback(int count)
    {
        var probes = Enumerable.Range(0, count).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return s;
        }).ToList();
        var endpoints = probes.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();
        probes.ForEach(s => s.Dispose());
        return endpoints;
    }

    /// <summary>One free loopback port.</summary>
    public static int One() => Loopback(1)[0].Port;
}
