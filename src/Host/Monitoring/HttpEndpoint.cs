using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ActorFace.Host.Monitoring;

/// <summary>Parses `--http HOST:PORT`; refuses non-loopback addresses unless remote access is explicitly allowed.</summary>
public static class HttpEndpoint
{
    public static IPEndPoint Parse(string text, bool allowRemote)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new FormatException($"--http '{text}': expected HOST:PORT, e.g. 127.0.0.1:9100 (port 0 picks a free one)");
        var host = text[..colon].Trim('[', ']');
        IPAddress address;
        if (host == "localhost") address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address!))
            throw new FormatException($"--http '{text}': '{host}' is not an IP address (use 127.0.0.1, or an interface address with --http-allow-remote)");
        if (!IPAddress.IsLoopback(address) && !allowRemote)
            throw new ArgumentException(
                $"--http '{text}': {address} is not a loopback address; the endpoint has no authentication, pass --http-allow-remote to expose it");
        return new IPEndPoint(address, port);
    }

    /// <summary>
    /// Refuses an address this process cannot listen on (the port taken by another program, an address that is not
    /// this machine's) before anything starts: the HTTP listener is opened only once the cluster is up, where the
    /// failure was an unhandled SocketException. Port 0 (any free port) always works.
    /// </summary>
    public static void RequireFree(IPEndPoint endpoint)
    {
        if (endpoint.Port == 0) return;
        using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // As the real listener: address reuse on, so only a socket that is listening there blocks the port.
        probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            probe.Bind(endpoint);
            probe.Listen();
        }
        catch (SocketException e)
        {
            var why = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"port {endpoint.Port} is already in use on {endpoint.Address} (another program, or another actorface, listens there)"
                : $"cannot listen there ({e.Message})";
            throw new ArgumentException($"--http {endpoint}: {why}; choose another port, or port 0 for any free one");
        }
    }
}
