using System.Text.RegularExpressions;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>The dashboard page rendered by a real headless Chromium (CI installs it; without it a user gets a skip).</summary>
public class StatusPageScreenshotTests
{
    private const string Chromium = ChromiumFactAttribute.Path;

    /// <summary>Where the last screenshot is kept for people to look at (the test's temp files are removed).</summary>
    public static string ScreenshotPath => Path.Combine(Path.GetTempPath(), "actorface-monitor-page.png");

    private static async Task<string> RunChromium(string profileDir, int timeoutSeconds, params string[] args)
    {
        var (code, stdout, stderr) = await ChildProcess.RunAsync(Chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-quic", $"--user-data-dir={profileDir}", "--window-size=1280,900", .. args],
            TimeSpan.FromSeconds(timeoutSeconds));
        Assert.True(code == 0, $"chromium exited with {code}: {stderr}");
        return stdout;
    }

    [ChromiumFact]
    public async Task PageShowsThePublishedRanksAndRendersCharts()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: this test needs a headless Chromium ({ChromiumFactAttribute.Install})");
        await using var server = MonitorHttpServerTests.Serve(SampleSnapshot.State());
        var work = Directory.CreateTempSubdirectory("actorface-chromium-");
        try
        {
            // Virtual time lets the page's first /status poll and rendering complete before the DOM is dumped.
            var dom = await RunChromium(Path.Combine(work.FullName, "dom-profile"), 90,
                "--virtual-time-budget=5000", "--dump-dom", server.BaseUrl);
            Assert.Matches("<body[^>]*data-updated=\"", dom);
            var ranks = Regex.Match(dom, "<table id=\"ranks\">.*?</table>", RegexOptions.Singleline).Value;
            Assert.Contains("data-rank=\"0\"", ranks);
            Assert.Contains("data-rank=\"1\"", ranks);
            Assert.Contains("node-b", ranks);
            Assert.Contains("Training", ranks);
            Assert.Contains("recovered from checkpoint 200", dom);

            var png = Path.Combine(work.FullName, "page.png");
            await RunChromium(Path.Combine(work.FullName, "shot-profile"), 90,
                "--virtual-time-budget=5000", "--hide-scrollbars", $"--screenshot={png}", server.BaseUrl);
            var bytes = await File.ReadAllBytesAsync(png);
            Assert.True(bytes.Length > 10_000, $"screenshot has only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            File.Copy(png, ScreenshotPath, overwrite: true);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
