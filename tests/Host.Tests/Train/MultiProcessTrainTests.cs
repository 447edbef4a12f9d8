using System.Globalization;

namespace ActorFace.Host.Tests.Train;

/// <summary>
/// Three OS processes on 127.0.0.1 (one seed, two joiners; one rank each, TCP ring collectives) train a tiny model
/// and follow the loss curve of one process hosting the same three ranks (thread collectives).
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class MultiProcessTrainTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-3proc-");

    public void Dispose() => _dir.Dispose();

    /// <summary>Synthetic identities, MobileFaceNet with 32-d embeddings, 3 ranks x batch 4 = 4 steps of one epoch.</summary>
    private static readonly string[] Tiny = TinyJob.Args(classes: 6, images: 48, checkpointEvery: 2);

    private static double[] Losses(string output) =>
        File.ReadAllLines(Path.Combine(output, "training.log"))
            .Where(l => l.Contains("-Speed "))
            .Select(l => double.Parse(l.Split("Loss ")[1].Split(' ')[0], CultureInfo.InvariantCulture))
            .ToArray();

    [Fact]
    public async Task ThreeProcessesMatchOneProcessWithThreeRanks()
    {
        var single = Path.Combine(_dir, "single");
        using (var p = new ActorfaceProcess([.. Tiny, "--output", single, "--workers-per-node", "3"]))
            Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(3)) == 0, p.Output);

        var multi = Path.Combine(_dir, "multi");
        var port = FreePorts.One();
        var seed = $"akka.tcp://actorface@127.0.0.1:{port}";
        string[] common = [.. Tiny, "--output", multi, "--seed-nodes", seed, "--workers-per-node", "1", "--min-workers", "3"];
        using var seedNode = new ActorfaceProcess([.. common, "--port", port.ToString(CultureInfo.InvariantCulture)]);
        using var joiner1 = new ActorfaceProcess(common);
        using var joiner2 = new ActorfaceProcess(common);
        foreach (var p in new[] { seedNode, joiner1, joiner2 })
            Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(3)) == 0, p.Output);
        Assert.Contains("3 rank(s) on 3 node(s)", seedNode.Output);

        var expected = Losses(single);
        var actual = Losses(multi);
        Assert.Equal(3, expected.Length);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= (i == 0 ? 1e-4 : 1e-2) * expected[i], $"line {i}: {expected[i]} vs {actual[i]}");
        Assert.True(File.Exists(Path.Combine(multi, "backbone.pth")));
        Assert.True(File.Exists(Path.Combine(multi, "checkpoints", "step_00000004.manifest.json")));
    }
}
