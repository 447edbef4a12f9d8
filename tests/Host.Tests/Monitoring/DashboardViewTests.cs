using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;
using Spectre.Console;

namespace ActorFace.Host.Tests.Monitoring;

public class DashboardViewTests
{
    [Fact]
    public void RendersRanksPanelsAndEventsAsText()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;

        console.Write(DashboardView.Render(SampleSnapshot.State().Snapshot(SampleSnapshot.Now), "test"));
        var text = writer.ToString();

        Assert.Contains("generation 2", text);
        Assert.Contains("step 300 / 2000", text);
        Assert.Contains("node-b", text);
        Assert.Contains("[5000, 10000)", text);
        Assert.Contains("Recovered", text);
        Assert.Contains("recoveries 1 (last: node-b unreachable, 4.2s)", text);
        Assert.Contains("lfw", text);
    }

    [Fact]
    public void SparklineAndBreakdownBarScale()
    {
        Assert.Equal("▁▅█", DashboardView.Sparkline([1.0, 2.0, 3.0], 10));
        // Only the visible tail counts for scaling: [2, 3] spans the full height.
        Assert.Equal("▁█", DashboardView.Sparkline([1.0, 2.0, 3.0], 2));
        var bar = DashboardView.BreakdownBar(new StepTimeBreakdown(0, 10, 0, 10, 0, 0), 20, 10);
        Assert.Equal(10, bar.Count(c => c == '█'));
        Assert.Equal("10.0.0.5:4053", DashboardView.ShortNode("akka.tcp://actorface@10.0.0.5:4053"));
        Assert.Equal("node-a", DashboardView.ShortNode("node-a"));
    }
}
