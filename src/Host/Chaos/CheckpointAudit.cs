using ActorFace.Actors.Checkpoints;

namespace ActorFace.Host.Chaos;

/// <summary>Every manifested checkpoint of a run must be complete: the manifest parses, and every rank of its world
/// has its replica (backbone + trainer state) and its Partial FC shard, non-empty, with the checksums of the manifest.</summary>
public static class CheckpointAudit
{
    private static readonly string[] RankFiles = ["replica/backbone.pt", "replica/trainer.afta", "shard/shard.afta"];

    public static (int Manifests, List<string> Problems) Verify(string outputDir)
    {
        var store = new CheckpointStore(outputDir);
        var problems = new List<string>();
        var all = store.Manifests();
        foreach (var (step, path) in all)
        {
            try
            {
                var manifest = CheckpointStore.Read(path);
                if (manifest.Sha256.Count == 0) problems.Add($"step {step}: the manifest lists no checksums");
                problems.AddRange(CheckpointStore.Verify(path, manifest).Select(p => $"step {step}: {p}"));
                for (var rank = 0; rank < manifest.WorldSize; rank++)
                {
                    var dir = CheckpointStore.RankDirectory(path, manifest, rank);
                    foreach (var file in RankFiles)
                    {
                        var f = new FileInfo(Path.Combine(dir, file));
                        if (!f.Exists || f.Length == 0)
                            problems.Add($"step {step}: {f.FullName} is missing or empty");
                    }
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                problems.Add($"step {step}: {e.Message}");
            }
        }
        return (all.Count, problems);
    }
}
