using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Tests.Fakes;
using ActorFace.Actors.Training;
using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Tests.Runtime;

/// <summary>
/// The runtime with Model's real RankTrainer (tiny MobileFaceNet, few steps): data parallelism and re-sharded resume
/// reproduce the loss curve of the reference run.
/// </summary>
public sealed class RealTrainerJobTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("af-real-").FullName;

    public void Dispose() => Directory.Delete(_root, true);

    private static RankServices Services(long count) =>
        new(new ProductionTrainerFactory(), new FakeDataFactory(count, FakeDataFactory.PairedImages, shuffle: false), new ModelCollectives());

    private Actors.Settings.TrainingSettings Settings(string name, int ranks, int batch) =>
        InProcessJob.Settings(Path.Combine(_root, name), ranks, batch, epochs: 1, images: 48) with
        {
            Network = "mbf", EmbeddingSize = 32, NumClasses = 6, Lr = 0.01, Frequent = 1, CheckpointEvery = 2, GradAllreduceFp16 = false,
        };

    private static double[] Losses(string output) =>
        File.ReadAllLines(Path.Combine(output, "training.log"))
            .Where(l => l.Contains("-Speed "))
            .Select(l => double.Parse(l.Split("Loss ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();

    [Fact]
    public async Task TwoRanksOfBatchBFollowOneRankOfBatch2B()
    {
        var one = await InProcessJob.RunAsync(Settings("one", 1, 8), Services(48));
        var two = await InProcessJob.RunAsync(Settings("two", 2, 4), Services(48));
        Assert.True(one.Success, one.Message);
        Assert.True(two.Success, two.Message);
        var a = Losses(Path.Combine(_root, "one"));
        var b = Losses(Path.Combine(_root, "two"));
        Assert.Equal(5, a.Length); // 6 steps; frequent 1 logs from step 2 on
        Assert.Equal(a.Length, b.Length);
        // Same global batches, weights and BatchNorm statistics: steps 1-2 agree to float precision. Later steps differ
        // only by summation order (conv kernels over batches of 4 vs 8), which the scale s = 64 of the margin loss
        // amplifies step after step.
        Assert.Equal(a[0], b[0], 3);
        for (var i = 1; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-2 * a[i], $"step {i + 2}: {a[i]} vs {b[i]}");
        Assert.True(File.Exists(Path.Combine(_root, "two", "backbone.pth")));
    }
}
