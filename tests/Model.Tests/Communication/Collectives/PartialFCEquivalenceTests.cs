using ActorFace.Model.PartialFC;
using TorchSharp;
using Xunit.Abstractions;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>
/// The math must not care which backend or world size runs it: one Partial FC step over 1, 2 and 4 local ranks and
/// over 2 and 3 tcp processes gives the single-rank loss and gradients to 1e-5 (relative to the largest value).
/// </summary>
public class PartialFCEquivalenceTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-5;

    static PartialFCProblem.RankResult Reference() => PartialFCProblem.Run(new SingleRankCollective());

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void LocalRanksReproduceTheSingleRankStep(int worldSize)
    {
        var reference = Reference();
        var world = CollectiveWorlds.Local(worldSize);
        try
        {
            var results = CollectiveWorlds.Run(world, PartialFCProblem.Run);
            for (int r = 0; r < worldSize; r++)
                Compare(reference, worldSize, r, results[r].Loss, results[r].EmbeddingGrad, results[r].WeightGrad);
        }
        finally
        {
            CollectiveWorlds.DisposeAll(world);
        }
    }

    [Fact]
    public void TcpProcessesReproduceTheSingleRankStep()
    {
        var reference = Reference();
        var directory = Directory.CreateTempSubdirectory("actorface-pfc-");
        var worlds = new[] { 2, 3 };
        // Both worlds run at once: process start-up is the cost, not the step.
        var runs = worlds.Select(w =>
        {
            var dir = Directory.CreateDirectory(Path.Combine(directory.FullName, $"w{w}")).FullName;
            var endpoints = FreePorts.Loopback(w);
            return (World: w, Dir: dir, Peers: Enumerable.Range(0, w).Select(r => PeerProcess.Start("pfc", r, endpoints, "pfc", dir)).ToList());
        }).ToList();
        try
        {
            foreach (var (w, dir, peers) in runs)
            {
                for (int r = 0; r < w; r++)
                {
                    int code = peers[r].WaitExit(TimeSpan.FromSeconds(90));
                    Assert.True(code == 0, $"world {w} rank {r} exited with {code}:\n{peers[r].Output}");
                    var line = peers[r].Output.Split('\n').Single(l => l.StartsWith("LOSS "));
                    float loss = float.Parse(line[5..], System.Globalization.CultureInfo.InvariantCulture);
                    var layout = new ShardLayout(PartialFCProblem.C, w, r);
                    var grad = PartialFCProblem.ReadFloats(Path.Combine(dir, $"grad-{r}.bin"), PartialFCProblem.N / w, PartialFCProblem.D);
                    var wgrad = PartialFCProblem.ReadFloats(Path.Combine(dir, $"wgrad-{r}.bin"), layout.NumLocal, PartialFCProblem.D);
                    Compare(reference, w, r, loss, grad, wgrad);
                }
            }
        }
        finally
        {
            runs.ForEach(run => run.Peers.ForEach(p => p.Dispose()));
            directory.Delete(recursive: true);
        }
    }

    void Compare(PartialFCProblem.RankResult reference, int worldSize, int rank, float loss, Tensor grad, Tensor weightGrad)
    {
        long b = PartialFCProblem.N / worldSize;
        var layout = new ShardLayout(PartialFCProblem.C, worldSize, rank);
        double lossError = Math.Abs(loss - reference.Loss) / Math.Abs(reference.Loss);
        // EmbeddingGrad comes back already multiplied by W (arcface_torch's all-gather backward).
        double gradError = Relative(reference.EmbeddingGrad.narrow(0, rank * b, b) * worldSize, grad);
        double weightError = Relative(reference.WeightGrad.narrow(0, layout.ClassStart, layout.NumLocal), weightGrad);
        output.WriteLine($"W={worldSize} rank {rank}: loss {loss} (rel err {lossError:E2}), embedding grad {gradError:E2}, centre grad {weightError:E2}");
        Assert.True(lossError <= Tolerance, $"W={worldSize} rank {rank}: loss {loss} vs {reference.Loss}");
        Assert.True(gradError <= Tolerance, $"W={worldSize} rank {rank}: embedding grad error {gradError}");
        Assert.True(weightError <= Tolerance, $"W={worldSize} rank {rank}: centre grad error {weightError}");
    }

    /// <summary>max |a − b| / max |a|: summation order differs between world sizes, so elementwise ratios of tiny values would be noise.</summary>
    static double Relative(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        return (expected - actual).abs().max().item<float>() / Math.Max(scale, 1e-30);
    }
}
