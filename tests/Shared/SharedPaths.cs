namespace ActorFace.Tests;

/// <summary>
/// Finds the read-only reference folder `../shared` next to the repository root (override: ACTORFACE_SHARED).
/// Fails loudly, naming where it looked, because a silent skip would hide every golden check.
/// </summary>
public static class SharedPaths
{
    static readonly Lazy<string> root = new(Find);

    public static string Root => root.Value;
    public static string Golden(string file) => Existing(Path.Combine(Root, "golden", file));
    public static string Data(string relative) => Existing(Path.Combine(Root, "data", relative));

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ActorFace.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"ActorFace.sln not found above {AppContext.BaseDirectory}");
        }
    }

    static string Find()
    {
        var env = Environment.GetEnvironmentVariable("ACTORFACE_SHARED");
        if (!string.IsNullOrEmpty(env))
            return Directory.Exists(env) ? env : throw new DirectoryNotFoundException($"ACTORFACE_SHARED={env} does not exist");
        var candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        if (!Directory.Exists(Path.Combine(candidate, "golden")))
            throw new DirectoryNotFoundException(
                $"The reference folder '../shared' was not found at {candidate} (expected golden/ and data/ inside). " +
                "Tests read golden outputs and real data from it; set ACTORFACE_SHARED to its path.");
        return candidate;
    }

    static string Existing(string path) =>
        File.Exists(path) || Directory.Exists(path) ? path : throw new FileNotFoundException($"missing reference file {path}", path);
}
