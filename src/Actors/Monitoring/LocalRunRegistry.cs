using System.Diagnostics;
using System.Text.Json;

namespace ActorFace.Actors.Monitoring;

/// <summary>What a running training process advertises so `actorface monitor` can find it without --seed-nodes.</summary>
public sealed record LocalRunInfo(
    string SystemName,
    IReadOnlyList<string> SeedNodes,
    int ProcessId,
    DateTime StartedUtc,
    string? OutputDir,
    string? HttpEndpoint);

/// <summary>
/// Well-known files for a local run's seed addresses: `&lt;output&gt;/cluster.json` (per run) and
/// `$TMPDIR/actorface/local-seed.json` (the most recent run on this machine; ACTORFACE_RUN_REGISTRY overrides). The training host writes both at
/// start-up and removes them on a clean exit; the monitor reads the output one first, then the temp one.
/// </summary>
public static class LocalRunRegistry
{
    public const string FileName = "cluster.json";

    /// <summary>Environment variable that moves the machine-wide file (tests, several users on one machine).</summary>
    public const string TempFileVariable = "ACTORFACE_RUN_REGISTRY";

    public static string TempFile =>
        Environment.GetEnvironmentVariable(TempFileVariable) is { Length: > 0 } overridden
            ? overridden
            : Path.Combine(Path.GetTempPath(), "actorface", "local-seed.json");

    public static string OutputFile(string outputDir) => Path.Combine(outputDir, FileName);

    /// <summary>Writes the registration (atomically) to the output folder, when given, and to the temp file.</summary>
    public static IReadOnlyList<string> Write(LocalRunInfo info)
    {
        if (info.SeedNodes.Count == 0) throw new ArgumentException("LocalRunRegistry: a run needs at least one seed node", nameof(info));
        var json = JsonSerializer.Serialize(info, MonitorSnapshotJson.Options);
        var written = new List<string>();
        if (!string.IsNullOrEmpty(info.OutputDir)) written.Add(WriteAtomic(OutputFile(info.OutputDir), json));
        written.Add(WriteAtomic(TempFile, json));
        return written;
    }

    /// <summary>Removes the files this process wrote (leaves another run's registration alone).</summary>
    public static void Remove(LocalRunInfo info)
    {
        foreach (var path in Candidates(info.OutputDir))
        {
            if (TryRead(path) is { } current && current.ProcessId == info.ProcessId) File.Delete(path);
        }
    }

    /// <summary>
    /// Finds the seed addresses of a live local run. Throws with the files it looked at when none is found or the
    /// registered process is gone, rather than letting the monitor wait on a dead address.
    /// </summary>
    public static LocalRunInfo Find(string? outputDir)
    {
        var looked = new List<string>();
        foreach (var path in Candidates(outputDir))
        {
            looked.Add(path);
            var info = TryRead(path);
            if (info is null) continue;
            if (!IsAlive(info.ProcessId))
                throw new InvalidOperationException(
                    $"{path} registers process {info.ProcessId}, which is not running (stale file from an earlier run); pass --seed-nodes");
            return info;
        }
        throw new FileNotFoundException(
            $"no local run registered (looked at {string.Join(", ", looked)}); start `actorface train` or pass --seed-nodes");
    }

    private static IEnumerable<string> Candidates(string? outputDir)
    {
        if (!string.IsNullOrEmpty(outputDir)) yield return OutputFile(outputDir);
        yield return TempFile;
    }

    private static LocalRunInfo? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var text = ActorFace.Model.Formats.RegularFile.ReadAllText(path, "run registration", 1 << 20);
            return JsonSerializer.Deserialize<LocalRunInfo>(text, MonitorSnapshotJson.Options)
                   ?? throw new InvalidDataException($"{path}: registry file is 'null'");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a valid run registration ({ex.Message})", ex);
        }
    }

    private static string WriteAtomic(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
