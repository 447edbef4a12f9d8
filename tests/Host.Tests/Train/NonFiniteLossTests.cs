namespace ActorFace.Host.Tests.Train;

/// <summary>A run whose loss turns NaN (lr = 1e30 blows the weights up after one step): each such step is skipped and
/// logged, after max_nonfinite_steps in a row the generation rolls back through the recovery path, and no NaN weights
/// are ever written.</summary>
[Collection(RealProcessCollection.Name)]
public sealed class NonFiniteLossTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-nonfinite-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task NaNStepsAreSkippedCountedAndRolledBackWithoutWritingNaNWeights()
    {
        var output = Path.Combine(_dir, "run");
        using var p = new ActorfaceProcess([.. TinyJob.Args(classes: 4, images: 48, checkpointEvery: 10, "lr=1e30", "max_nonfinite_steps=3",
            "cluster.max_restarts=1"), "--workers-per-node", "1", "--output", output]);
        Assert.Equal(1, await p.WaitAsync(TimeSpan.FromMinutes(3)));

        var log = File.ReadAllText(Path.Combine(output, "training.log"));
        Assert.Contains("warning: loss is NaN at step 2: step skipped (no weight update; 1 in a row, 1 in this generation; max_nonfinite_steps = 3)", log);
        Assert.Contains("[coordinator] generation 1 aborted: rank 0 failed: the loss was NaN or infinite for 3 consecutive steps (up to step 4; " +
                        "max_nonfinite_steps): rolling back to the last complete checkpoint", p.Output);
        Assert.Contains("[coordinator] generation 2: 1 rank(s) on 1 node(s)", p.Output);
        Assert.Contains("ERR error: giving up after 1 restart(s) (cluster.max_restarts)", p.Output);
        Assert.DoesNotContain("   at ", p.Output);
        Assert.False(File.Exists(Path.Combine(output, "backbone.pth")), "no finite weights were ever reached at a checkpoint");
    }
}
