using System.Globalization;
using System.Text.Json;

namespace ActorFace.Actors.Checkpoints;

/// <summary>
/// Layout under the output directory:
/// <code>
/// checkpoints/step_00000120/rank_0/...      files of rank 0 (written by its actors, temp + fsync + rename)
/// checkpoints/step_00000120.manifest.json   written last by the coordinator: the checkpoint is complete
/// </code>
/// </summary>
public sealed class CheckpointStore(string outputDirectory)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string OutputDirectory { get; } = outputDirectory;
    public string Root => Path.Combine(OutputDirectory, "checkpoints");

    public static string StepName(long step) => "step_" + step.ToString("D8", CultureInfo.InvariantCulture);

    public string StepDirectory(long step) => Path.Combine(Root, StepName(step));

    public string RankDirectory(long step, int rank) => Path.Combine(StepDirectory(step), $"rank_{rank}");

    public string ManifestPath(long step) => Path.Combine(Root, StepName(step) + ".manifest.json");

    /// <summary>A fresh temporary folder for rank <paramref name="rank"/>'s part of the checkpoint of
    /// <paramref name="step"/>, next to where <see cref="CommitRankFolder"/> promotes it.</summary>
    public string BeginRankFolder(long step, int rank)
    {
        var partial = RankDirectory(step, rank) + $".partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(partial);
        return partial;
    }

    /// <summary>
    /// Commits a rank's part of a checkpoint: fsync every file, replace a stale final folder, rename, fsync the parent,
    /// then <paramref name="afterRename"/> (backbone.pth). A storage failure removes the renamed folder too (no manifest
    /// will name it; <paramref name="warn"/> hears of what could not be removed) and is rethrown.
    /// </summary>
    public void CommitRankFolder(string partial, long step, int rank, Action<string> warn, Action? afterRename = null)
    {
        var final = RankDirectory(step, rank);
        try
        {
            RankCheckpointFolder.Promote(partial, final);
            afterRename?.Invoke();
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            RankCheckpointFolder.RemoveQuietly(warn, partial, final);
            throw;
        }
    }

    public static string RankDirectory(string manifestPath, CheckpointManifest manifest, int rank) =>
        Path.Combine(Path.GetDirectoryName(manifestPath)!, manifest.Directory, $"rank_{rank}");

    /// <summary>Writes the manifest (atomically, last) with the checksum of every file of the world's rank folders.</summary>
    public string Write(CheckpointManifest manifest)
    {
        var path = ManifestPath(manifest.Step);
        var dir = StepDirectory(manifest.Step);
        var sums = Enumerable.Range(0, manifest.WorldSize)
            .SelectMany(r => Directory.EnumerateFiles(Path.Combine(dir, $"rank_{r}"), "*", SearchOption.AllDirectories))
            .ToDictionary(f => Path.GetRelativePath(dir, f).Replace('\\', '/'), Sha256Of);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(manifest with { Directory = StepName(manifest.Step), Sha256 = sums }, Json));
        return path;
    }

    /// <summary>Problems of a manifested checkpoint: missing rank folders, missing or changed files (empty = sound).</summary>
    public static List<string> Verify(string manifestPath, CheckpointManifest manifest)
    {
        var dir = Path.Combine(Path.GetDirectoryName(manifestPath)!, manifest.Directory);
        var problems = new List<string>();
        for (var r = 0; r < manifest.WorldSize; r++)
            if (!Directory.Exists(Path.Combine(dir, $"rank_{r}")))
                problems.Add($"rank_{r}/ is missing");
        foreach (var (file, sum) in manifest.Sha256)
        {
            var full = Path.Combine(dir, file);
            if (!File.Exists(full)) problems.Add($"{file} is missing");
            else if (!string.Equals(Sha256Of(full), sum, StringComparison.OrdinalIgnoreCase)) problems.Add($"{file}: checksum mismatch");
        }
        return problems;
    }

    private static string Sha256Of(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    public static CheckpointManifest Read(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path))
                ?? throw new InvalidDataException("empty manifest");
            if (manifest.Format != CheckpointManifest.CurrentFormat)
                throw new InvalidDataException($"format {manifest.Format} is not supported (expected {CheckpointManifest.CurrentFormat})");
            return manifest;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"checkpoint manifest '{path}' is unreadable: {e.Message}", e);
        }
    }

    /// <summary>Complete checkpoints, least training progress first. Progress is counted in samples: a step number
    /// counts batches of the world that wrote it, so after a world-size change (elastic recovery, scale-up) a newer
    /// checkpoint can have a smaller step number than an older one. Unreadable manifests sort first.</summary>
    public IReadOnlyList<(long Step, string Path)> Manifests()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateFiles(Root, "step_*.manifest.json")
            .Select(p => (Step: ParseStep(Path.GetFileName(p)), Path: p))
            .Where(x => x.Step >= 0)
            .Select(x => (x.Step, x.Path, Progress: Progress(x.Path)))
            .OrderBy(x => x.Progress.Samples).ThenBy(x => x.Progress.Generation).ThenBy(x => x.Step)
            .Select(x => (x.Step, x.Path))
            .ToList();
    }

    private static (long Samples, int Generation) Progress(string manifestPath)
    {
        try
        {
            var m = Read(manifestPath);
            return (m.Step * m.TotalBatchSize, m.Generation);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return (-1, -1);
        }
    }

    /// <summary>The newest manifested checkpoint whose files are all present with their checksums; a damaged newer
    /// one is skipped (with a warning on stderr) rather than resumed.</summary>
    public (CheckpointManifest Manifest, string Path)? Latest()
    {
        foreach (var (_, path) in Manifests().Reverse())
        {
            var manifest = Read(path);
            var problems = Verify(path, manifest);
            if (problems.Count == 0) return (manifest, path);
            Console.Error.WriteLine($"warning: checkpoint '{path}' is damaged and skipped: {string.Join("; ", problems)}");
        }
        return null;
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> complete checkpoints, and folders no manifest names
    /// that are older than the newest manifest (left behind by aborted generations).</summary>
    public void Prune(int keep)
    {
        var all = Manifests();
        if (all.Count == 0) return;
        var newest = all.Skip(Math.Max(0, all.Count - keep)).Max(x => x.Step);
        foreach (var (step, path) in all.Take(Math.Max(0, all.Count - keep)))
        {
            File.Delete(path); // manifest first: a half-deleted checkpoint must never look complete
            DeleteDirectory(StepDirectory(step));
        }
        var kept = all.Skip(Math.Max(0, all.Count - keep)).Select(x => x.Step).ToHashSet();
        foreach (var dir in Directory.EnumerateDirectories(Root, "step_*"))
        {
            var step = ParseStep(Path.GetFileName(dir));
            if (step >= 0 && step < newest && !kept.Contains(step))
                DeleteDirectory(dir);
        }
    }

    private static void DeleteDirectory(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private static long ParseStep(string name)
    {
        var digits = name.StartsWith("step_", StringComparison.Ordinal) ? name[5..].Split('.')[0] : "";
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var step) ? step : -1;
    }
}
