using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Tests.Fakes;
using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Tests.Runtime;

/// <summary>
/// The actor runtime end to end with a fake trainer (the math is tested in Model.Tests): leases, checkpoints,
/// manifests, failure recovery, halting and resuming, also across world sizes.
/// </summary>
public sealed class FakeJobTests : IDisposable
{
    private readonly TempDirectory _root = new("af-job-");

    public void Dispose() => _root.Dispose();

    private string Out(string name) => Path.Combine(_root, name);

    [Fact]
    public async Task TwoRanksOfBatchBMatchOneRankOfBatch2B()
    {
        var one = new FakeRunLog();
        var two = new FakeRunLog();
        var r1 = await InProcessJob.RunAsync(InProcessJob.Settings(Out("one"), ranks: 1, batch: 8), InProcessJob.Fake(one));
        var r2 = await InProcessJob.RunAsync(InProcessJob.Settings(Out("two"), ranks: 2, batch: 4), InProcessJob.Fake(two));
        Assert.True(r1.Success, r1.Message);
        Assert.True(r2.Success, r2.Message);
        Assert.Equal(10, r1.Step); // 40 images / 8 per global batch x 2 epochs
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), one.Losses.Keys.Order());
        foreach (var step in one.Losses.Keys)
            Assert.Equal(one.Losses[step], two.Losses[step], 12);
        Assert.Equal(one.FinalWeights!, two.FinalWeights!, Tolerance.Relative(1e-12));
        Assert.Equal(one.AllClasses(), two.AllClasses(), Tolerance.Relative(1e-9));
    }

    [Fact]
    public async Task CheckpointsAreManifestedPrunedAndTheLogFollowsArcfaceFormat()
    {
        var log = new FakeRunLog();
        var output = Out("ckpt");
        var result = await InProcessJob.RunAsync(InProcessJob.Settings(output, ranks: 2, batch: 4), InProcessJob.Fake(log));
        Assert.True(result.Success, result.Message);
        var store = new CheckpointStore(output);
        // checkpoint_every 3 over 10 steps: 3, 6, 9 and the final 10; keep_checkpoints 2.
        Assert.Equal([9L, 10L], store.Manifests().Select(m => m.Step));
        var latest = store.Latest()!.Value;
        Assert.Equal(2, latest.Manifest.WorldSize);
        Assert.True(File.Exists(Path.Combine(CheckpointStore.RankDirectory(latest.Path, latest.Manifest, 1), "shard", "shard.txt")));
        Assert.False(Directory.Exists(store.StepDirectory(6)));
        Assert.True(File.Exists(Path.Combine(output, "backbone.pth")));
        var lines = File.ReadAllLines(Path.Combine(output, "training.log"));
        Assert.Matches(@"^Training: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}-rank_id: 0$", lines[0]);
        Assert.Contains(lines, l => l.EndsWith("-: batch_size" + new string(' ', 15) + "4"));
        Assert.Contains(lines, l => l.EndsWith("-: margin_list" + new string(' ', 14) + "(1.0, 0.5, 0.0)"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l,
            @"-Speed \d+\.\d\d samples/sec   Loss \d+\.\d{4}   LearningRate \d\.\d{6}   Epoch: 1   Global Step: 8   Required: \d+ hours$"));
    }

    [Fact]
    public async Task AWorkerThatThrowsRestartsTheGenerationFromTheLastManifest()
    {
        var clean = new FakeRunLog();
        var faulty = new FakeRunLog();
        await InProcessJob.RunAsync(InProcessJob.Settings(Out("clean"), ranks: 2, batch: 4), InProcessJob.Fake(clean));
        var result = await InProcessJob.RunAsync(InProcessJob.Settings(Out("faulty"), ranks: 2, batch: 4),
            InProcessJob.Fake(faulty, failAt: (1, 1, 5)));
        Assert.True(result.Success, result.Message);
        Assert.Equal(4, faulty.TrainersCreated); // two ranks x two generations
        Assert.Equal(clean.FinalWeights!, faulty.FinalWeights!, Tolerance.Relative(1e-12));
        Assert.Equal(clean.AllClasses(), faulty.AllClasses(), Tolerance.Relative(1e-9));
        var log = File.ReadAllText(Path.Combine(Out("faulty"), "training.log"));
        Assert.Contains("generation 2: world size 2, resuming after step 3", log);
    }

    [Fact]
    public async Task AHungRankIsCaughtByTheStepWatchdogAndTheRunEndsAsIfUndisturbed()
    {
        var clean = new FakeRunLog();
        await InProcessJob.RunAsync(InProcessJob.Settings(Out("clean"), ranks: 2, batch: 4), InProcessJob.Fake(clean));
        var hung = new FakeRunLog();
        var trainers = new FakeTrainerFactory(hung) { HangAt = (1, 1, 5) };
        var settings = InProcessJob.Settings(Out("hung"), ranks: 2, batch: 4);
        settings = settings with { Cluster = settings.Cluster with { StepTimeout = TimeSpan.FromSeconds(2), AbortTimeout = TimeSpan.FromSeconds(2) } };
        var console = new StringWriter();
        double[] classes;
        try
        {
            var result = await InProcessJob.RunAsync(settings, new RankServices(trainers, new FakeDataFactory(40), new FakeCollectives()),
                TextWriter.Synchronized(console));
            Assert.True(result.Success, result.Message);
            classes = hung.AllClasses(); // before the abandoned rank wakes up and disposes its stale shard
        }
        finally
        {
            trainers.Release.Set();
        }
        var log = console.ToString();
        Assert.Matches(@"\[node\] rank \d made no progress for \d+(\.\d)? s after step 4 \(cluster.step_timeout = 2 s\): hung", log);
        Assert.Contains("[node] rank(s) 1 did not stop within 2 s (cluster.abort_timeout): abandoned", log);
        Assert.Contains("generation 2: 2 rank(s)", log);
        Assert.Equal(clean.FinalWeights!, hung.FinalWeights!, Tolerance.Relative(1e-12));
        Assert.Equal(clean.AllClasses(), classes, Tolerance.Relative(1e-9));
    }

    [Theory]
    [InlineData(2, 4, 2, 4)]
    [InlineData(2, 4, 1, 8)]
    [InlineData(1, 8, 2, 4)]
    public async Task HaltBetweenCheckpointsThenResumeMatchesAnUninterruptedRun(int ranksBefore, int batchBefore, int ranksAfter, int batchAfter)
    {
        var reference = new FakeRunLog();
        await InProcessJob.RunAsync(InProcessJob.Settings(Out("ref"), ranks: 2, batch: 4), InProcessJob.Fake(reference));

        var output = Out("resumed");
        var first = new FakeRunLog();
        var halted = await InProcessJob.RunAsync(InProcessJob.Settings(output, ranksBefore, batchBefore) with { MaxSteps = 5 }, InProcessJob.Fake(first));
        Assert.True(halted.Success, halted.Message);
        Assert.Contains("halted after global step 5", halted.Message);
        Assert.Equal(3, new CheckpointStore(output).Latest()!.Value.Manifest.Step);

        var second = new FakeRunLog();
        var resumed = await InProcessJob.RunAsync(InProcessJob.Settings(output, ranksAfter, batchAfter) with { Resume = true }, InProcessJob.Fake(second));
        Assert.True(resumed.Success, resumed.Message);
        Assert.Equal(Enumerable.Range(4, 7).Select(i => (long)i), second.Losses.Keys.Order()); // steps 4..10 re-run after checkpoint 3
        foreach (var step in second.Losses.Keys)
            Assert.Equal(reference.Losses[step], second.Losses[step], 12);
        Assert.Equal(reference.FinalWeights!, second.FinalWeights!, Tolerance.Relative(1e-12));
        Assert.Equal(reference.AllClasses(), second.AllClasses(), Tolerance.Relative(1e-9));
    }

    [Fact]
    public async Task ResumeWithoutACheckpointIsAClearError()
    {
        var result = await InProcessJob.RunAsync(InProcessJob.Settings(Out("empty"), 1, 8) with { Resume = true }, InProcessJob.Fake(new FakeRunLog()));
        Assert.False(result.Success);
        Assert.Contains("no complete checkpoint", result.Message);
    }
}
