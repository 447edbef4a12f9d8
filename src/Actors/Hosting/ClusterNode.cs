namespace ActorFace.Actors.Hosting;

/// <summary>
/// What differs between the actor systems of ActorFace's cluster nodes (training nodes, `actorface monitor`, the
/// monitor demo): where Akka.Remote listens, the node's roles, the seeds it joins by itself (empty: it joins
/// explicitly) and Akka's log level. <see cref="ClusterHocon.Node"/> turns it into the configuration.
/// </summary>
public sealed record ClusterNode(string Hostname, int Port, IReadOnlyList<string> Roles)
{
    /// <summary>akka.tcp:// (or akka.ssl.tcp://) addresses Akka joins on start; empty = joined explicitly.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    /// <summary>Akka's own log level (OFF, ERROR, WARNING, INFO, DEBUG).</summary>
    public string LogLevel { get; init; } = "WARNING";
}
