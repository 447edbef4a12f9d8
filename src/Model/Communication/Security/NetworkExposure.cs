using System.Net;

namespace ActorFace.Model.Communication.Security;

/// <summary>
/// The one rule every listener follows (Akka.Remote, the TCP collective, the HTTP monitor): loopback unless the
/// configuration explicitly says otherwise, and a log line that says what is reachable from the network and how it
/// is protected.
/// </summary>
public static class NetworkExposure
{
    /// <summary>True for 127.0.0.0/8, ::1 and "localhost"; a host name or wildcard (0.0.0.0, ::) is not loopback.</summary>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var h = host.Trim().Trim('[', ']');
        if (h.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(h, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// Refuses a non-loopback bind address unless <paramref name="allowed"/> (the explicit opt-in, named by
    /// <paramref name="optIn"/> in the error) is set.
    /// </summary>
    public static void Require(string component, string host, bool allowed, string optIn)
    {
        if (!IsLoopback(host) && !allowed)
            throw new ArgumentException(
                $"{component}: '{host}' is not a loopback address; listening there exposes it to the network. " +
                $"Set {optIn} to allow it (and see docs/security.md for TLS and the cluster secret).");
    }

    /// <summary>The log line for a listener: where it listens and how it is protected (a warning when it is reachable unprotected).</summary>
    public static string Describe(string component, string host, int port, bool encrypted, bool authenticated)
    {
        var where = $"{component} listens on {host}:{port}";
        if (IsLoopback(host)) return $"{where} (loopback only: not reachable from other machines)";
        var protection = (encrypted, authenticated) switch
        {
            (true, true) => "TLS, peers authenticated",
            (true, false) => "TLS, peers NOT authenticated",
            (false, true) => "no encryption, peers authenticated by the cluster secret",
            _ => "NO encryption and NO authentication: anyone who can reach this port can connect",
        };
        return $"{(encrypted && authenticated ? "" : "WARNING: ")}{where}, reachable from the network ({protection})";
    }

    /// <summary>
    /// NCCL has no encryption and no authentication, whatever the cluster's secret or TLS: a world whose ranks span
    /// machines (a non-loopback rank endpoint) is refused unless <paramref name="allowInsecure"/>, the same opt-in as an
    /// unprotected TCP ring. Returns the line each rank logs.
    /// </summary>
    public static string CheckNccl(IReadOnlyList<IPEndPoint> endpoints, bool allowInsecure)
    {
        var remote = endpoints.Where(e => !IPAddress.IsLoopback(e.Address)).Select(e => e.Address).Distinct().ToList();
        if (remote.Count == 0) return "NCCL collective: every rank on this machine (loopback hosts): nothing exposed to the network";
        if (!allowInsecure)
            throw new ArgumentException(
                $"NCCL collective: ranks on {string.Join(", ", remote)} would exchange tensors over the network without encryption " +
                "or authentication (NCCL has neither; the cluster secret and TLS do not cover it). Set collective = tcp to keep " +
                "the data plane protected, or explicitly allow an insecure data plane on a private network (docs/security.md)");
        return $"WARNING: NCCL collective across {string.Join(", ", remote)}: NO encryption and NO authentication (allowed by configuration)";
    }

    /// <summary>Describes a TCP collective world and refuses to run one across machines without a secret or TLS
    /// unless <paramref name="allowInsecure"/> says so.</summary>
    public static IReadOnlyList<string> CheckCollective(IReadOnlyList<IPEndPoint> endpoints, bool encrypted, bool authenticated, bool allowInsecure)
    {
        var lines = endpoints.Select((e, r) => Describe($"TCP collective rank {r}", e.Address.ToString(), e.Port, encrypted, authenticated)).ToList();
        var remote = endpoints.Where(e => !IPAddress.IsLoopback(e.Address)).ToList();
        if (remote.Count > 0 && !encrypted && !authenticated && !allowInsecure)
            throw new ArgumentException(
                $"TCP collective: endpoints {string.Join(", ", remote)} are reachable from the network but neither a cluster secret " +
                "nor TLS is configured (anyone could inject tensors); configure one, or explicitly allow an insecure data plane");
        return lines;
    }
}
