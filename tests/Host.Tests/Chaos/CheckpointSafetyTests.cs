using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Hosting;
using ActorFace.Host.Chaos;
using Akka.Configuration;
using Akka.Coordination;

namespace ActorFace.Host.Tests.Chaos;

/// <summary>What a kill during a checkpoint write can leave behind must never be resumed; the split-brain lease
/// is held by one live owner at a time.</summary>
public sealed class CheckpointSafetyTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-ckpt-");

    public void Dispose() => _dir.Dispose();

    private static void WriteRank(CheckpointStore store, long step, int rank, string content)
    {
        foreach (var file in new[] { "replica/backbone.pt", "replica/trainer.afta", "shard/shard.afta" })
        {
            var path = Path.Combine(store.RankDirectory(step, rank), file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, $"{content} {step} {rank} {file}");
        }
    }

    [Fact]
    public void ADamagedNewestCheckpointIsSkippedForTheLastSoundOne()
    {
        var store = new CheckpointStore(_dir);
        foreach (var step in new long[] { 4, 8 })
        {
            WriteRank(store, step, 0, "a");
            WriteRank(store, step, 1, "b");
            store.Write(new CheckpointManifest { Step = step, WorldSize = 2, BatchSize = 4 });
        }
        var manifest = CheckpointStore.Read(store.ManifestPath(8));
        Assert.Equal(6, manifest.Sha256.Count);
        Assert.Equal(8, store.Latest()!.Value.Manifest.Step);
        var (manifests, sound) = CheckpointAudit.Verify(_dir);
        Assert.Equal(2, manifests);
        Assert.Empty(sound);

        // A torn write (or bit rot) in rank 1's shard of step 8.
        File.WriteAllText(Path.Combine(store.RankDirectory(8, 1), "shard/shard.afta"), "torn");
        Assert.Equal(4, store.Latest()!.Value.Manifest.Step);
        var problems = CheckpointAudit.Verify(_dir).Problems;
        Assert.Contains(problems, p => p.Contains("rank_1/shard/shard.afta: checksum mismatch"));

        // A rank folder that never got renamed into place.
        Directory.Delete(store.RankDirectory(4, 0), recursive: true);
        Assert.Null(store.Latest());
    }

    private FileLease Lease(string owner) => new(new LeaseSettings("test-sbr", owner,
        new TimeoutSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)),
        ConfigurationFactory.ParseString($"path = \"{Path.Combine(_dir, "cluster.lease")}\"\nhold-after-release = 300ms")), null!);

    [Fact]
    public async Task TheLeaseIsFreeOnlyWhenNoOtherOpenFileHoldsTheLock()
    {
        var lease = Lease("a");
        // Another process's lock (flock is per open file, so a second open in this process stands in for it).
        using (new FileStream(Path.Combine(_dir, "cluster.lease"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            Assert.False(await lease.Acquire());
        Assert.True(await lease.Acquire());
        Assert.True(lease.CheckLease());
        Assert.True(await lease.Release());
        Assert.True(lease.CheckLease()); // still held for hold-after-release
        Assert.Throws<IOException>(() => new FileStream(Path.Combine(_dir, "cluster.lease"), FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        for (var i = 0; i < 50 && lease.CheckLease(); i++)
            await Task.Delay(100);
        Assert.False(lease.CheckLease());
        using var other = new FileStream(Path.Combine(_dir, "cluster.lease"), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }
}
