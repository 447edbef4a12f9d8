using System.Globalization;
using System.Net;

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
}
