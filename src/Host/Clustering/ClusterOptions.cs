using System.CommandLine;
using System.Globalization;

namespace ActorFace.Host.Clustering;

/// <summary>
/// Command-line shortcuts for the `actorface.cluster` keys; they become --set overrides, so the precedence and the
/// error messages are those of every other key.
/// </summary>
public sealed class ClusterOptions
{
    public Option<string?> SeedNodes { get; } = new("--seed-nodes")
    {
        Description = "Comma-separated seed node addresses akka.tcp://actorface@host:port (none = a single-node cluster)",
    };

    public Option<int?> Port { get; } = new("--port") { Description = "Akka.Remote port of this process (0 = any free port)" };

    public Option<string?> Hostname { get; } = new("--hostname") { Description = "Address other nodes reach this process at (default 127.0.0.1)" };

    public Option<int?> WorkersPerNode { get; } = new("--workers-per-node") { Description = "Ranks hosted by this process" };

    public Option<int?> MinWorkers { get; } = new("--min-workers") { Description = "Ranks the job waits for before starting (and needs to continue)" };

    public IEnumerable<Option> All => [SeedNodes, Port, Hostname, WorkersPerNode, MinWorkers];

    public IEnumerable<string> ToSets(ParseResult result)
    {
        if (result.GetValue(SeedNodes) is { } seeds)
        {
            var list = seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => "\"" + s + "\"");
            yield return $"cluster.seed_nodes=[{string.Join(",", list)}]";
        }
        if (result.GetValue(Port) is { } port) yield return "cluster.port=" + port.ToString(CultureInfo.InvariantCulture);
        if (result.GetValue(Hostname) is { } host) yield return "cluster.hostname=" + host;
        if (result.GetValue(WorkersPerNode) is { } w) yield return "cluster.workers_per_node=" + w.ToString(CultureInfo.InvariantCulture);
        if (result.GetValue(MinWorkers) is { } m) yield return "cluster.min_workers=" + m.ToString(CultureInfo.InvariantCulture);
    }
}
