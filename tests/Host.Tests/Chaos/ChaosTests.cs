using ActorFace.Host.Chaos;
using Xunit.Abstractions;

namespace ActorFace.Host.Tests.Chaos;

/// <summary>
/// Real failures against real processes: `actorface train` on 127.0.0.1, SIGKILLed (a worker and the coordinator's
/// node) and SIGSTOPped while training. The short run is part of the suite; the soak (20 kills with restarts) runs
/// only with ACTORFACE_SOAK=1.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class ChaosTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new("af-chaos-");

    public void Dispose() => _dir.Dispose();

    private async Task<ChaosReport> Run(ChaosOptions options)
    {
        var console = new StringWriter();
        var report = await new ChaosRunner(options, console).RunAsync();
        report.Print(console);
        output.WriteLine(console.ToString());
        return report;
    }

    [Fact]
    public async Task SurvivesAWorkerKillAndACoordinatorKill()
    {
        var report = await Run(new ChaosOptions
        {
            Processes = 3, Kills = 2, Pauses = 1, Seed = 1, // seed 1: worker first, then the coordinator of the remaining two
            Output = Path.Combine(_dir, "short"), Baseline = false,
            Sets = ["num_image=360"], Timeout = TimeSpan.FromMinutes(8),
        });
        var kills = report.Failures.Where(f => f.Kind != "pause").ToList();
        Assert.Contains(kills, f => f.Kind == "kill coordinator node");
        Assert.All(kills, f => Assert.NotNull(f.Recovery));
        Assert.True(report.Passed, string.Join("\n", report.Checks.Where(c => !c.Ok).Select(c => $"{c.Check}: {c.Detail}")));
    }

    [SoakFact]
    public async Task Soak()
    {
        var report = await Run(new ChaosOptions
        {
            Processes = 3, Kills = 20, Pauses = 5, Restart = true, Seed = 11, Output = Path.Combine(_dir, "soak"),
            // 2,000 held-out pairs: the accuracy of 100 pairs moves by whole points between equally good models.
            // The world moves between 1 and 3 ranks: the run is held against the weakest undisturbed world size.
            Sets = ["num_image=4000", "synthetic.val_pairs=2000", "synthetic.val_identities=100"], BaselineWorlds = [1, 2, 3],
            Timeout = TimeSpan.FromMinutes(90),
        });
        Assert.True(report.Passed, string.Join("\n", report.Checks.Where(c => !c.Ok).Select(c => $"{c.Check}: {c.Detail}")));
    }
}

/// <summary>Runs only with ACTORFACE_SOAK=1 (about half an hour on two cores).</summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public SoakFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("ACTORFACE_SOAK") != "1")
            Skip = "opt-in soak: set ACTORFACE_SOAK=1";
    }
}
