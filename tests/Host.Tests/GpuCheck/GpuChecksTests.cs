using ActorFace.Host.Commands.GpuCheck;
using ActorFace.Host.Tests.Evaluation;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.GpuCheck;

/// <summary>The logic of `actorface gpu-check` at tiny sizes with the CPU standing in for the GPU (no GPU here: the
/// real checks run on CUDA, where the device differs from the reference CPU computation).</summary>
public class GpuChecksTests
{
    [Fact]
    public void WithoutCudaTheCommandSaysSoAndExitsNonZero()
    {
        Assert.False(GpuCheckCommand.CudaPresent(out _)); // the CI's libtorch is CPU-only
        var (code, _, err) = CommandRunner.Run("gpu-check");
        Assert.Equal(GpuCheckCommand.NoCuda, code);
        Assert.Contains("no CUDA device", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void PartialFCCheckComparesLossAndGradients()
    {
        var r = GpuChecks.PartialFC(classes: 2000, sampleRate: 0.1, batch: 16, device: CPU, embedding: 32);
        Assert.True(r.Passed, r.Detail);
        Assert.Contains("embedding grad rel 0.0E+000", r.Detail);
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("bf16")] // the bf16 key casts the whole backbone: its float32 head must follow
    public void TrainingCheckRunsBothPrecisions(string precision)
    {
        var p = GpuChecks.Train("mbf", classes: 1000, sampleRate: 0.1, batch: 2, steps: 3, precision, CPU, pool: 1, warmup: 1);
        Assert.Equal(3, p.Losses.Count);
        Assert.True(p.Finite, string.Join(", ", p.Losses));
        Assert.True(p.SamplesPerSecond > 0);
    }

    [Fact]
    public void TrainingVerdictNeedsFiniteAndFallingLosses()
    {
        var falling = new TrainingProbe([40f, 39, 38, 30, 25, 20, 15, 10], 0.5, 128, 0);
        Assert.True(GpuChecks.TrainingVerdict("fp16", falling, "x").Passed);
        Assert.Equal(256, falling.SamplesPerSecond);
        Assert.False(GpuChecks.TrainingVerdict("fp16", falling with { Losses = [40f, 39, 41, 42] }, "x").Passed);
        var nan = GpuChecks.TrainingVerdict("bf16", falling with { Losses = [40f, 30, float.NaN, 10] }, "x");
        Assert.False(nan.Passed);
        Assert.Contains("NOT FINITE", nan.Detail);
    }

    [Fact]
    public void AllReduceCheckGoesThroughTheBackendAndFailsWhenItIsMissing()
    {
        Assert.True(GpuChecks.AllReduce(new OneRankBackend(true), CPU).Passed);
        var missing = GpuChecks.AllReduce(new OneRankBackend(false), CPU);
        Assert.False(missing.Passed);
        Assert.Contains("libnccl.so.2: cannot open", missing.Detail);
    }

    private sealed class OneRankBackend(bool available) : INcclBackend
    {
        public bool IsAvailable(out string reason)
        {
            reason = available ? "" : "libnccl.so.2: cannot open shared object file";
            return available;
        }

        public byte[] CreateUniqueId() => new byte[128];
        public ICollective Create(int rank, int worldSize, byte[] uniqueId, TimeSpan timeout) => new SingleRankCollective();
    }
}
