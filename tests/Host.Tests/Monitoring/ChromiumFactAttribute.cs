using ActorFace.Tests;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>
/// A [Fact] that drives the headless Chromium at <see cref="Path"/>. A user without it gets a skip with the install
/// line; on CI (CI=true, or ACTORFACE_REQUIRE_REFERENCE=1) the test runs and fails, because .ci/run installs it.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/chromium";
    public const string Install = "Debian: apt-get update && apt-get install -y chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Path) && !SharedPaths.ToolsRequired)
            Skip = $"{Path} not found: this test needs a headless Chromium ({Install}); CI installs it";
    }
}
