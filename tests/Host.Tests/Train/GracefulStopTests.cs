using ActorFace.Actors.Checkpoints;

namespace ActorFace.Host.Tests.Train;

/// <summary>SIGTERM as a scheduler sends it before preemption: the run stops at a common step of its two ranks,
/// writes a checkpoint, says where it is and how to resume, and exits 0; `--resume` continues from there; a second
/// signal exits at once (143) and leaves the last complete checkpoint loadable.</summary>
[Collection(RealProcessCollection.Name)]
public sealed class GracefulStopTests : IDisposable
{
    private const int SigTerm = 15;
    private readonly TempDirectory _dir = new("af-graceful-stop-");

    public void Dispose() => _dir.Dispose();

    /// <summary>Two ranks in one process x batch 4, 400 images: 50 steps, no checkpoint before the end.</summary>
    private static readonly string[] Job = [.. TinyJob.Args(classes: 8, images: 400, checkpointEvery: 100), "--workers-per-node", "2"];

    [Fact]
    public async Task SigTermCheckpointsAndExitsZeroAndASecondSignalExitsAtOnce()
    {
        var output = Path.Combine(_dir, "run");
        long stoppedAt;
        using (var run = new ActorfaceProcess([.. Job, "--output", output]))
        {
            await run.WaitForOutputAsync("Global Step: 3 ", TimeSpan.FromMinutes(2));
            run.Signal(SigTerm);
            Assert.True(await run.WaitAsync(TimeSpan.FromMinutes(1)) == 0, run.Output);
            Assert.Contains("actorface: SIGTERM received: stopping the job at a common step with a checkpoint (stop_grace_period = 30 s); " +
                            "send it again to exit at once", run.Output);
            var line = run.Output.Split('\n').Single(l => l.StartsWith("actorface: stopped on SIGTERM: checkpoint of step ", StringComparison.Ordinal));
            Assert.Contains("continue with the same command and --resume; output in " + output, line);
            Assert.DoesNotContain("left the cluster", run.Output);
            stoppedAt = long.Parse(line.Split("checkpoint of step ")[1].Split(' ')[0]);
            Assert.InRange(stoppedAt, 4, 49);
        }
        var latest = new CheckpointStore(output).Latest();
        Assert.Equal(stoppedAt, latest!.Value.Manifest.Step);
        Assert.True(File.Exists(Path.Combine(output, "backbone.pth")));

        using (var resumed = new ActorfaceProcess([.. Job, "--output", output, "--resume"]))
        {
            await resumed.WaitForOutputAsync($"Global Step: {stoppedAt + 2} ", TimeSpan.FromMinutes(2));
            Assert.Contains($"starting from checkpoint step {stoppedAt} (world 2) as step {stoppedAt}", resumed.Output);
            resumed.Signal(SigTerm);
            await resumed.WaitForOutputAsync("actorface: SIGTERM received", TimeSpan.FromSeconds(30));
            resumed.Signal(SigTerm);
            Assert.Equal(143, await resumed.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("actorface: second stop signal (SIGTERM): exiting at once; the last complete checkpoint stays resumable", resumed.Output);
        }
        Assert.NotNull(new CheckpointStore(output).Latest()); // whatever the second signal interrupted, a sound checkpoint remains
    }
}
