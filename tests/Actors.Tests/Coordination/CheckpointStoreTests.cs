using ActorFace.Actors.Checkpoints;

namespace ActorFace.Actors.Tests.Coordination;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-store-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ARankFolderIsCommittedByRenameReplacingAStaleOne()
    {
        var store = new CheckpointStore(_dir);
        var stale = store.RankDirectory(7, 1);
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "old.txt"), "an aborted generation's");
        var partial = store.BeginRankFolder(7, 1);
        Assert.StartsWith(stale + ".partial-", partial);
        Directory.CreateDirectory(Path.Combine(partial, "replica"));
        File.WriteAllText(Path.Combine(partial, "replica", "backbone.pt"), "weights");
        var after = 0;
        store.CommitRankFolder(partial, 7, 1, w => Assert.Fail(w), () => after++);
        Assert.Equal(1, after);
        Assert.False(Directory.Exists(partial));
        Assert.Equal("weights", File.ReadAllText(Path.Combine(stale, "replica", "backbone.pt")));
        Assert.False(File.Exists(Path.Combine(stale, "old.txt")));
    }

    [Fact]
    public void AStorageFailureDuringTheCommitRemovesBothFoldersAndIsRethrown()
    {
        var store = new CheckpointStore(_dir);
        var partial = store.BeginRankFolder(9, 0);
        File.WriteAllText(Path.Combine(partial, "f"), "x");
        var e = Assert.Throws<IOException>(() => store.CommitRankFolder(partial, 9, 0, w => Assert.Fail(w),
            () => throw new IOException("No space left on device")));
        Assert.Equal("No space left on device", e.Message);
        Assert.False(Directory.Exists(partial));
        Assert.False(Directory.Exists(store.RankDirectory(9, 0))); // no manifest will name it
    }

    [Fact]
    public void KeepsTheNewestCompleteCheckpointsAndDropsOrphans()
    {
        var store = new CheckpointStore(_dir);
        foreach (var step in new long[] { 5, 10, 15 })
        {
            Directory.CreateDirectory(store.RankDirectory(step, 0));
            store.Write(new CheckpointManifest { Step = step, WorldSize = 1, BatchSize = 2 });
        }
        Directory.CreateDirectory(store.RankDirectory(12, 0)); // an aborted generation's partial checkpoint
        Directory.CreateDirectory(store.RankDirectory(20, 0)); // in progress
        store.Prune(keep: 2);
        Assert.Equal([10L, 15L], store.Manifests().Select(m => m.Step));
        Assert.False(Directory.Exists(store.StepDirectory(5)));
        Assert.False(Directory.Exists(store.StepDirectory(12)));
        Assert.True(Directory.Exists(store.StepDirectory(20)));
        var (manifest, path) = store.Latest()!.Value;
        Assert.Equal(15, manifest.Step);
        Assert.Equal(store.RankDirectory(15, 0), CheckpointStore.RankDirectory(path, manifest, 0));
        Assert.Empty(Directory.EnumerateFiles(store.Root, "*.tmp"));
    }

    [Fact]
    public void NewestMeansMostSamplesNotTheHighestStepNumber()
    {
        // World 1 (4 samples a step) reached step 60 = 240 samples; a scale-up to world 2 (8 a step) then saved step 32.
        var store = new CheckpointStore(_dir);
        foreach (var (step, world, generation) in new[] { (52L, 1, 3), (56L, 1, 3), (60L, 1, 3), (32L, 2, 4) })
        {
            for (var rank = 0; rank < world; rank++)
                Directory.CreateDirectory(store.RankDirectory(step, rank));
            store.Write(new CheckpointManifest { Step = step, WorldSize = world, BatchSize = 4, Generation = generation });
        }
        store.Prune(keep: 3);
        Assert.Equal([56L, 60L, 32L], store.Manifests().Select(m => m.Step));
        Assert.False(Directory.Exists(store.StepDirectory(52)));
        Assert.Equal(32, store.Latest()!.Value.Manifest.Step);
    }

    [Fact]
    public void ACorruptManifestIsAClearError()
    {
        var store = new CheckpointStore(_dir);
        Directory.CreateDirectory(store.Root);
        File.WriteAllText(store.ManifestPath(3), "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => store.Latest());
        Assert.Contains("step_00000003.manifest.json", e.Message);
    }
}
