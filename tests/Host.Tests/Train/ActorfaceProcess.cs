namespace ActorFace.Host.Tests.Train;

/// <summary>Runs the built `actorface` executable (copied next to the tests from the Host output folder).</summary>
public sealed class ActorfaceProcess(params string[] args) : ChildProcess(
    Path.Combine(AppContext.BaseDirectory, "actorface"), args,
    new Dictionary<string, string> { ["ACTORFACE_THREADS"] = "1" }, // several processes share two cores in the tests
    AppContext.BaseDirectory);
