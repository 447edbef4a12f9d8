using System.Net;
using Akka.Actor;
using Akka.Configuration;
using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Actors.Security;

/// <summary>
/// The protection of one training process's network services, decided once at start-up (docs/security.md):
/// <list type="bullet">
/// <item>Akka.Remote: mutual TLS with the certificate files when given, else with the key derived from the cluster
/// secret; neither = plain TCP, refused on a non-loopback address unless <see cref="AllowInsecure"/>.</item>
/// <item>TCP collective: HMAC challenge-response with the secret (when given) and TLS with the same credentials as
/// Akka.Remote; refused across machines without either unless <see cref="AllowInsecure"/>.</item>
/// </list>
/// </summary>
public sealed class ClusterSecurity : IDisposable
{
    /// <summary>What an error tells the user to configure.</summary>
    public const string Remedy = "actorface.cluster.secret_file (or ACTORFACE_CLUSTER_SECRET_FILE) or actorface.cluster.tls { certificate, key, ca }";

    public const string OptIn = "actorface.cluster.allow_insecure = true";

    public ClusterSecurity(ClusterSecret? secret, TlsCredentials? certificateFiles, bool allowInsecure)
    {
        Secret = secret;
        Tls = certificateFiles ?? (secret != null ? TlsCredentials.FromClusterSecret(secret) : null);
        AllowInsecure = allowInsecure;
    }

    /// <summary>No secret, no TLS: loopback only (unless <see cref="AllowInsecure"/>).</summary>
    public static ClusterSecurity None { get; } = new(null, null, false);

    public ClusterSecret? Secret { get; }

    /// <summary>This node's TLS identity and trust rule (certificate files, or derived from the secret); null = no TLS.</summary>
    public TlsCredentials? Tls { get; }

    public bool AllowInsecure { get; }

    public bool Enabled => Tls != null;

    /// <summary>One line for the start-up log; never contains key material.</summary>
    public string Summary => Tls == null
        ? "cluster security: none (no cluster secret, no TLS certificate): loopback only" + (AllowInsecure ? ", insecure remote binds allowed by configuration" : "")
        : $"cluster security: mutual TLS ({Tls.Description})" + (Secret != null ? $"; data plane also authenticated by the cluster secret {Secret.Fingerprint}" : "");

    /// <summary>Refuses an unprotected Akka.Remote endpoint that other machines can reach, before anything listens.</summary>
    public void RequireRemote(string hostname) =>
        NetworkExposure.Require("Akka.Remote", hostname, Enabled || AllowInsecure, $"{Remedy}, or {OptIn}");

    public string DescribeRemote(string hostname, int port) => NetworkExposure.Describe("Akka.Remote", hostname, port, Enabled, Enabled);

    /// <summary>The cluster actor system: plain, or Akka.Remote over mutual TLS (<see cref="AkkaRemoteTls"/>).</summary>
    public ActorSystem CreateSystem(string name, Config config)
    {
        if (Tls == null) return ActorSystem.Create(name, config);
        return AkkaRemoteTls.CreateSystem(name, config, Tls, reason => Volatile.Write(ref _lastRefusal, reason));
    }

    private string? _lastRefusal;

    /// <summary>The last peer this node's Akka.Remote refused at the TLS handshake, with the reason (null = none):
    /// a node that cannot join says why, since Akka's own log may end before the warning is written.</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);

    /// <summary>
    /// The options of one rank of a TCP collective: checks the whole ring (<see cref="NetworkExposure.CheckCollective"/>),
    /// reports this rank's exposure line, and adds the secret's handshake and TLS.
    /// </summary>
    public TcpCollectiveOptions Protect(int rank, IReadOnlyList<IPEndPoint> endpoints, TcpCollectiveOptions options, Action<string>? log = null)
    {
        var lines = NetworkExposure.CheckCollective(endpoints, encrypted: Tls != null, authenticated: Enabled, AllowInsecure);
        if (rank >= 0 && rank < lines.Count) log?.Invoke(lines[rank]);
        return options.Secure(Secret, Tls);
    }

    /// <summary>NCCL worlds: refused across machines unless <see cref="AllowInsecure"/> (NCCL is never protected).</summary>
    public void CheckNccl(int rank, IReadOnlyList<IPEndPoint> endpoints, Action<string>? log = null)
    {
        var line = NetworkExposure.CheckNccl(endpoints, AllowInsecure);
        if (rank == 0) log?.Invoke(line);
    }

    public void Dispose() => Tls?.Dispose();
}
