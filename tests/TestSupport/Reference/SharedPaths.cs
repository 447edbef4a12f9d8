namespace ActorFace.Tests;

/// <summary>
/// Finds the read-only reference folder `../shared` next to the repository root (override: ACTORFACE_SHARED):
/// goldens of arcface_torch, real faces and a pretrained ONNX model (README › Reference data).
/// A user's clone usually has no such folder: tests that need it are declared with [ReferenceFact] /
/// [ReferenceTheory] / [ReferenceInlineData] and are skipped with <see cref="SkipReason"/>. CI sets
/// ACTORFACE_REQUIRE_REFERENCE=1, under which nothing is skipped and a missing folder or file fails the test
/// naming it, so a golden check is never lost silently.
/// </summary>
public static class SharedPaths
{
    public const string RequireVariable = "ACTORFACE_REQUIRE_REFERENCE";
    const string SeeReadme = "see README › Reference data";

    static readonly Lazy<string> root = new(Find);

    /// <summary>ACTORFACE_REQUIRE_REFERENCE=1 (or true): missing reference data is a failure, never a skip.</summary>
    public static bool Required => IsSet(RequireVariable);

    /// <summary>
    /// Tools a test drives from outside (headless Chromium) are required where the reference data is, and on any CI
    /// (CI=true), whose script installs them; a user without them gets a skip.
    /// </summary>
    public static bool ToolsRequired => Required || IsSet("CI");

    /// <summary>Where the reference folder is looked for (ACTORFACE_SHARED, else ../shared beside the repository).</summary>
    public static string ExpectedRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("ACTORFACE_SHARED");
            return !string.IsNullOrEmpty(env) ? Path.GetFullPath(env) : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        }
    }

    public static string Root => root.Value;
    public static string Golden(string file) => Existing(Path.Combine(Root, "golden", file));
    public static string Data(string relative) => Existing(Path.Combine(Root, "data", relative));
    /// <summary>A path relative to the reference folder, as the attributes name it ("golden/r18_seed0.pth").</summary>
    public static string Reference(string relative) => Existing(Path.Combine(Root, relative));

    /// <summary>
    /// Null when every path (relative to the reference folder, e.g. "golden/r18_seed0.pth") exists, or when the
    /// reference data is required (the test then runs and fails naming what is missing); else why the test is skipped.
    /// </summary>
    public static string? SkipReason(params string[] relativePaths)
    {
        if (Required) return null;
        var rootDir = ExpectedRoot;
        if (!Directory.Exists(rootDir)) return $"reference data not found at {rootDir}; {SeeReadme}";
        var missing = relativePaths.Where(p => !File.Exists(Path.Combine(rootDir, p)) && !Directory.Exists(Path.Combine(rootDir, p))).ToList();
        return missing.Count == 0 ? null : $"reference data not found at {Path.Combine(rootDir, missing[0])}" +
            (missing.Count > 1 ? $" (and {missing.Count - 1} more)" : "") + $"; {SeeReadme}";
    }

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
        var candidate = ExpectedRoot;
        if (!Directory.Exists(Path.Combine(candidate, "golden")) && !Directory.Exists(Path.Combine(candidate, "data")))
            throw new DirectoryNotFoundException(
                $"reference data not found at {candidate} (expected golden/ and data/ inside; {SeeReadme}). " +
                $"Set ACTORFACE_SHARED to its path{RequiredNote}.");
        return candidate;
    }

    static string Existing(string path) =>
        File.Exists(path) || Directory.Exists(path) ? path
            : throw new FileNotFoundException($"reference file missing: {path} ({SeeReadme}){RequiredNote}", path);

    static string RequiredNote => Required ? $"; {RequireVariable}=1 makes missing reference data a failure instead of a skip" : "";

    static bool IsSet(string variable) =>
        Environment.GetEnvironmentVariable(variable)?.Trim().ToLowerInvariant() is "1" or "true" or "yes";
}
