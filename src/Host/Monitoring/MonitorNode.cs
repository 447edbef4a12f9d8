using ActorFace.Actors.Security;
using ActorFace.Actors.Hosting;
using Akka.Actor;
using Akka.Configuration;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Monitoring;

/// <summary>Builds the actor system of a watch-only cluster node (role `monitor`).</summary>
public static class MonitorNode
{
    /// <summary>
    /// Parses and checks seed addresses; they must all name the same actor system, which the monitor then uses.
    /// </summary>
    public static (string SystemName, IReadOnlyList<string> Seeds) ParseSeeds(IEnumerable<string> seeds)
    {
        var list = seeds.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (list.Length == 0) throw new ArgumentException("--seed-nodes: no address given");
        var addresses = list.Select(s =>
        {
            try
            {
                var a = Address.Parse(s);
                if (a.Host is null || a.Port is null) throw new UriFormatException("host and port are required");
                return a;
            }
            catch (Exception ex) when (ex is UriFormatException or ArgumentException or FormatException)
            {
                throw new FormatException($"--seed-nodes: '{s}' is not an address like akka.tcp://actorface@127.0.0.1:4053 ({ex.Message})");
            }
        }).ToArray();
        var systems = addresses.Select(a => a.System).Distinct().ToArray();
        if (systems.Length > 1)
            throw new ArgumentException($"--seed-nodes name different actor systems ({string.Join(", ", systems)}); one cluster at a time");
        return (systems[0], addresses.Select(a => a.ToString()).ToArray());
    }

    /// <summary>A monitor (or demo) node's configuration: the same builder as a training node's
    /// (<see cref="ClusterHocon.Node"/>, strict serialization included), joining <paramref name="seeds"/> by itself.</summary>
    public static Config ClusterConfig(string hostname, int port, IReadOnlyList<string> roles, IReadOnlyList<string> seeds, string logLevel) =>
        ClusterHocon.Node(new ClusterNode(hostname, port, roles) { SeedNodes = seeds, LogLevel = logLevel });

    /// <summary>Starts the monitor's actor system; a cluster protected by a secret or certificates (docs/security.md)
    /// admits it only with the same credentials, over TLS (seed addresses then use `akka.ssl.tcp`).</summary>
    public static ActorSystem Start(string systemName, string hostname, int port, IReadOnlyList<string> seeds, string logLevel,
        ClusterSecurity? security = null)
    {
        security ??= ClusterSecurity.None;
        if (security.Enabled)
            seeds = seeds.Select(s => TrainingNode.SeedAddress(s, "akka.ssl.tcp").ToString()).ToList();
        return security.CreateSystem(systemName, ClusterConfig(hostname, port, [MonitoringConfig.MonitorRole], seeds, logLevel));
    }
}
