using System.Text.Json;
using ActorFace.Host.Commands;
using ActorFace.Host.Tests.Evaluation;

namespace ActorFace.Host.Tests.Commands;

public class ProgressReporterTests
{
    [Fact]
    public void PlainLinesComeEveryIntervalWithRateAndEtaAndAClosingLine()
    {
        var now = TimeSpan.Zero;
        var err = new StringWriter();
        using (var progress = new ProgressReporter("eval lfw", 100, "images", err, TimeSpan.FromSeconds(5), () => now))
        {
            now = TimeSpan.FromSeconds(2);
            progress.Advance(10); // before the first interval: a short command stays quiet
            Assert.Equal("", err.ToString());
            now = TimeSpan.FromSeconds(5);
            progress.Advance(15);
            now = TimeSpan.FromSeconds(6);
            progress.Advance(5); // within the interval of the last line: nothing
            now = TimeSpan.FromSeconds(10);
            progress.Advance(20);
        }
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
        [
            "eval lfw: 25/100 images (25 %), 5.0 images/s, ETA 0:15",
            "eval lfw: 50/100 images (50 %), 5.0 images/s, ETA 0:10",
            "eval lfw: 50 images in 10.0 s (5.0 images/s)",
        ], lines);
    }

    [Fact]
    public void AbsoluteReportsFromSlowerWorkersNeverMoveBack()
    {
        var err = new StringWriter();
        using var progress = new ProgressReporter("pack", 10, "images", err, TimeSpan.Zero, () => TimeSpan.FromSeconds(1));
        progress.Report(6, 10);
        progress.Report(4, 10);
        Assert.Equal(6, progress.Done);
        Assert.Contains("pack: 6/10 images (60 %)", err.ToString());
    }

    [Fact]
    public void QuickCommandPrintsNothing()
    {
        var err = new StringWriter();
        using (var progress = new ProgressReporter("embed", 3, "images", err, TimeSpan.FromSeconds(5), () => TimeSpan.FromSeconds(0.1)))
            progress.Advance(3);
        Assert.Equal("", err.ToString());
    }

    [Fact]
    public void EvalPrintsPlainProgressOnStderrAndKeepsStdoutJsonClean()
    {
        var dir = Directory.CreateTempSubdirectory("afprogress").FullName;
        var before = Environment.GetEnvironmentVariable(ProgressReporter.IntervalVariable);
        try
        {
            Environment.SetEnvironmentVariable(ProgressReporter.IntervalVariable, "0");
            var (code, output, err) = CommandRunner.Run("eval", "--bin", SyntheticEvalInputs.Bin(dir), "--onnx", SyntheticEvalInputs.TinyModel(dir),
                "--batch", "8", "--json");
            Assert.True(code == 0, err);
            Assert.Matches(@"eval synthetic: \d+/80 images \(\d+ %\), [\d.]+ images/s", err);
            Assert.Matches(@"eval synthetic: 80 images in [\d.]+ s", err);
            Assert.Equal(20, JsonDocument.Parse(output).RootElement[0].GetProperty("pairs").GetInt32());
        }
        finally
        {
            Environment.SetEnvironmentVariable(ProgressReporter.IntervalVariable, before);
            Directory.Delete(dir, true);
        }
    }
}
