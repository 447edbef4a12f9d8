using System.Globalization;
using ActorFace.Model.Backbones.Weights;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.Train;

/// <summary>
/// Determinism across a crash: two processes train; one is SIGKILLed mid-run and started again at once. The job
/// waits for it (min_workers = 2), rolls back to the last manifest and continues with the same world size, so it
/// must end with the weights of an undisturbed run of the same two processes.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class KillAndRestartTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory _dir = new("af-kill-restart-");

    public void Dispose() => _dir.Dispose();

    /// <summary>2 ranks x batch 4 = 8 images per step, 12 steps, a checkpoint every 4; Partial FC samples half the centres.</summary>
    private static readonly string[] Tiny =
        [.. TinyJob.Args(classes: 24, images: 96, checkpointEvery: 4, "sample_rate=0.5", "cluster.collective_timeout=15s"), "--workers-per-node", "1", "--min-workers", "2"];

    private static (ActorfaceProcess Seed, string[] JoinerArgs) Start(string output)
    {
        var port = FreePorts.One();
        string[] common = [.. Tiny, "--output", output, "--seed-nodes", $"akka.tcp://actorface@127.0.0.1:{port}"];
        return (new ActorfaceProcess([.. common, "--port", port.ToString(CultureInfo.InvariantCulture)]), common);
    }

    [Fact]
    public async Task AKilledAndRestartedWorkerEndsWithTheWeightsOfAnUndisturbedRun()
    {
        var undisturbed = Path.Combine(_dir, "undisturbed");
        var (seedA, joinA) = Start(undisturbed);
        using (seedA)
        using (var joiner = new ActorfaceProcess(joinA))
        {
            Assert.True(await seedA.WaitAsync(TimeSpan.FromMinutes(4)) == 0, seedA.Output);
            Assert.True(await joiner.WaitAsync(TimeSpan.FromMinutes(1)) == 0, joiner.Output);
        }

        var crashed = Path.Combine(_dir, "crashed");
        var (seedB, joinB) = Start(crashed);
        using (seedB)
        {
            using (var victim = new ActorfaceProcess(joinB))
            {
                await seedB.WaitForOutputAsync("Global Step: 6 ", TimeSpan.FromMinutes(3));
                victim.Kill();
            }
            using var restarted = new ActorfaceProcess(joinB);
            Assert.True(await seedB.WaitAsync(TimeSpan.FromMinutes(4)) == 0, seedB.Output);
            Assert.True(await restarted.WaitAsync(TimeSpan.FromMinutes(1)) == 0, restarted.Output);
            Assert.Contains("generation 2: 2 rank(s) on 2 node(s), starting from checkpoint step 4", seedB.Output);
        }

        var expected = PthArchive.Read(Path.Combine(undisturbed, "backbone.pth"));
        var actual = PthArchive.Read(Path.Combine(crashed, "backbone.pth")).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(expected.Select(kv => kv.Key).Order(), actual.Keys.Order());
        var largest = 0.0;
        foreach (var (key, value) in expected)
        {
            var diff = (value.to_type(ScalarType.Float64) - actual[key].to_type(ScalarType.Float64)).abs().max().item<double>();
            var scale = Math.Max(1e-3, value.to_type(ScalarType.Float64).abs().max().item<double>());
            Assert.True(diff <= 1e-5 * scale, $"{key}: max |difference| {diff:G3} (scale {scale:G3})");
            largest = Math.Max(largest, diff / scale);
        }
        log.WriteLine($"{expected.Count} tensors; largest difference relative to the tensor's scale: {largest:G3}");
    }
}
