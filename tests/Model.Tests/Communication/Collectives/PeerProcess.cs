using System.Net;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>One rank running as a separate OS process (tests/CollectivePeer), with its output captured.</summary>
public sealed class PeerProcess : ChildProcess
{
    PeerProcess(IEnumerable<string> args) : base(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", args) { }

    static string PeerAssembly()
    {
        var testDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(testDir);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testDir))!;
        var path = Path.Combine(SharedPaths.RepoRoot, "tests", "CollectivePeer", "bin", configuration, framework, "ActorFace.CollectivePeer.dll");
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"collective peer not built at {path} (it builds with tests/Model.Tests)", path);
    }

    public static PeerProcess Start(string mode, int rank, IReadOnlyList<IPEndPoint> endpoints, string token, params string[] extra) =>
        new([PeerAssembly(), mode, rank.ToString(), string.Join(",", endpoints.Select(e => e.ToString())), token, .. extra]);

    /// <summary>Waits for the "READY" line that a looping peer prints after its first all-reduce.</summary>
    public bool WaitReady(TimeSpan timeout) => WaitForLine("READY", timeout);
}
