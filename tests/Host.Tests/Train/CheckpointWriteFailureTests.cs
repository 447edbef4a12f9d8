using ActorFace.Actors.Checkpoints;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Host.Tests.Train;

/// <summary>A disk that fills up during training (a 40 MiB tmpfs: room for one checkpoint of the tiny model and
/// backbone.pth, not two): the failed checkpoint leaves the previous one and backbone.pth intact and loadable, and
/// the run says so and stops (exit 1), or trains on without checkpoints with checkpoint_failure = continue.</summary>
[Collection(RealProcessCollection.Name)]
public sealed class CheckpointWriteFailureTests
{
    /// <summary>One rank, batch 4, 32 images: 8 steps, a checkpoint every 2 (each ~15 MB, backbone.pth ~7 MB).</summary>
    private static string[] Job(string output, params string[] sets) =>
        [.. TinyJob.Args(classes: 4, images: 32, checkpointEvery: 2, sets), "--workers-per-node", "1", "--output", output];

    private static void AssertStep2IsIntactAndLoadable(string output)
    {
        var latest = new CheckpointStore(output).Latest(); // verifies every file's SHA-256
        Assert.Equal(2, latest!.Value.Manifest.Step);
        var weights = PthArchive.Read(Path.Combine(output, "backbone.pth"));
        Assert.NotEmpty(weights);
        Assert.Empty(Directory.GetFiles(output, "*.tmp")); // no half-written copy kept
    }

    [TmpfsFact]
    public async Task AFullDiskStopsTheRunAndKeepsThePreviousCheckpoint()
    {
        using var disk = new SizeLimitedTmpfs(40);
        var output = Path.Combine(disk.Path, "run");
        using var p = new ActorfaceProcess(Job(output));
        Assert.Equal(1, await p.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("ERR error: the checkpoint of step 4 could not be written (rank 0: No space left on device", p.Output);
        Assert.Contains("the previous checkpoint, step 2 (checkpoints/step_00000002.manifest.json), is intact and loadable. " +
                        "Free space or fix permissions, then continue with --resume", p.Output);
        Assert.DoesNotContain("   at ", p.Output);
        AssertStep2IsIntactAndLoadable(output);
    }

    [TmpfsFact]
    public async Task WithContinueTheRunTrainsOnWithoutTheCheckpoints()
    {
        using var disk = new SizeLimitedTmpfs(40);
        var output = Path.Combine(disk.Path, "run");
        using var p = new ActorfaceProcess(Job(output, "checkpoint_failure=continue"));
        Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(2)) == 0, p.Output);
        Assert.Contains("[coordinator] checkpoint of step 4 skipped: it could not be written (rank 0: No space left on device", p.Output);
        Assert.Contains("training continues without it (checkpoint_failure = continue)", p.Output);
        Assert.Contains("actorface: training finished at global step 8", p.Output);
        AssertStep2IsIntactAndLoadable(output);
    }
}
