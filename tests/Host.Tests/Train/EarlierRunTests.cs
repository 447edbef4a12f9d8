namespace ActorFace.Host.Tests.Train;

/// <summary>`train` into a folder that holds an earlier run's checkpoints: refused (exit 2, nothing deleted) unless
/// the user says --resume or --overwrite.</summary>
[Collection(RealProcessCollection.Name)]
public sealed class EarlierRunTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-earlier-run-");

    public void Dispose() => _dir.Dispose();

    /// <summary>One rank, batch 4, 8 images: 2 steps, a checkpoint after each.</summary>
    private static readonly string[] Tiny = [.. TinyJob.Args(classes: 4, images: 8, checkpointEvery: 1), "--workers-per-node", "1"];

    [Fact]
    public async Task AFreshRunOverEarlierCheckpointsIsRefusedUntilOverwriteIsGiven()
    {
        var output = Path.Combine(_dir, "run");
        using (var first = new ActorfaceProcess([.. Tiny, "--output", output]))
            Assert.True(await first.WaitAsync(TimeSpan.FromMinutes(3)) == 0, first.Output);
        var manifests = Directory.GetFiles(Path.Combine(output, "checkpoints"), "*.manifest.json").Order().ToArray();
        Assert.NotEmpty(manifests);

        using (var again = new ActorfaceProcess([.. Tiny, "--output", output]))
        {
            Assert.Equal(2, await again.WaitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains($"ERR error: output directory '{output}' holds {manifests.Length} checkpoint(s) of an earlier run " +
                            $"(newest: {Path.GetFileName(manifests[^1])})", again.Output);
            Assert.Contains("nothing was deleted. Continue that run with --resume, or start a new one over it with --overwrite", again.Output);
            Assert.DoesNotContain("   at ", again.Output);
        }
        Assert.Equal(manifests, Directory.GetFiles(Path.Combine(output, "checkpoints"), "*.manifest.json").Order().ToArray());

        using (var both = new ActorfaceProcess([.. Tiny, "--output", output, "--resume", "--overwrite"]))
        {
            Assert.Equal(2, await both.WaitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("give one of them", both.Output);
        }

        using (var overwrite = new ActorfaceProcess([.. Tiny, "--output", output, "--overwrite"]))
        {
            Assert.True(await overwrite.WaitAsync(TimeSpan.FromMinutes(3)) == 0, overwrite.Output);
            Assert.Contains("removing the earlier checkpoints", overwrite.Output);
            Assert.Contains("starting from scratch", File.ReadAllText(Path.Combine(output, "training.log")));
        }
    }
}
