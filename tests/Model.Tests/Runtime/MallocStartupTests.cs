using ActorFace.Model.Runtime;
using Xunit;

namespace ActorFace.Model.Tests.Runtime;

public class MallocStartupTests
{
    const string Jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    static readonly Func<string, bool> WithJemalloc = path => path == Jemalloc;
    static readonly Func<string, bool> WithoutJemalloc = _ => false;

    static Func<string, string?> Env(params (string, string)[] vars) =>
        name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    static Func<string, string?> After(Func<string, string?> env, IReadOnlyList<(string Name, string? Value)> plan) =>
        name => plan.Any(c => c.Name == name) ? plan.Last(c => c.Name == name).Value : env(name);

    [Fact]
    public void WithoutJemallocAFreshProcessGetsTheThreeGlibcVariablesAndTheMarker()
    {
        var plan = MallocStartup.Plan(Env(), WithoutJemalloc);
        Assert.Equal(
            [("MALLOC_ARENA_MAX", "1"), ("MALLOC_MMAP_MAX_", "0"), ("MALLOC_TRIM_THRESHOLD_", "18446744073709551615"),
             ("ACTORFACE_MALLOC_AT_START", "MALLOC_ARENA_MAX,MALLOC_MMAP_MAX_,MALLOC_TRIM_THRESHOLD_")],
            plan.Select(c => (c.Name, c.Value)).ToArray());
    }

    [Fact]
    public void WhereJemallocIsInstalledItIsPreloadedWithoutPageDecay()
    {
        var plan = MallocStartup.Plan(Env(), WithJemalloc);
        Assert.Equal(
            [("LD_PRELOAD", Jemalloc), ("MALLOC_CONF", MallocStartup.JemallocConf), ("ACTORFACE_MALLOC_AT_START", "LD_PRELOAD,MALLOC_CONF")],
            plan.Select(c => (c.Name, c.Value)).ToArray());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(null, false)]
    [InlineData("glibc", true)]
    [InlineData("jemalloc", true)]
    [InlineData("default", true)]
    public void AProcessStartedWithItsSettingsIsNotReexecuted(string? mode, bool jemallocInstalled)
    {
        var exists = jemallocInstalled ? WithJemalloc : WithoutJemalloc;
        var env = mode is null ? Env() : Env(("ACTORFACE_MALLOC", mode));
        var restarted = After(env, MallocStartup.Plan(env, exists));
        Assert.Empty(MallocStartup.Plan(restarted, exists));
    }

    [Fact]
    public void GlibcModeInAChildOfAJemallocProcessTakesOutThePreload()
    {
        var parent = After(Env(), MallocStartup.Plan(Env(), WithJemalloc));
        var child = After(parent, [("ACTORFACE_MALLOC", "glibc")]);
        var plan = MallocStartup.Plan(child, WithJemalloc);
        Assert.Contains(("LD_PRELOAD", (string?)null), plan);
        Assert.Contains(("MALLOC_CONF", (string?)null), plan);
        Assert.Contains(("MALLOC_ARENA_MAX", "1"), plan);
    }

    [Fact]
    public void TheUsersOwnArenaLimitIsLeftAlone() =>
        Assert.Empty(MallocStartup.Plan(Env(("MALLOC_ARENA_MAX", "4")), WithoutJemalloc));

    [Fact]
    public void TheUsersOwnTrimThresholdAndMallocConfAreKept()
    {
        var plan = MallocStartup.Plan(Env(("MALLOC_TRIM_THRESHOLD_", "1000")), WithoutJemalloc);
        Assert.DoesNotContain(plan, c => c.Name == "MALLOC_TRIM_THRESHOLD_");
        Assert.Contains(plan, c => c.Name == "MALLOC_ARENA_MAX");
        var jemalloc = MallocStartup.Plan(Env(("MALLOC_CONF", "narenas:2")), WithJemalloc);
        Assert.DoesNotContain(jemalloc, c => c.Name == "MALLOC_CONF");
        Assert.Contains(("LD_PRELOAD", (string?)Jemalloc), jemalloc);
    }

    [Fact]
    public void DefaultMallocInAChildOfATunedProcessRemovesOnlyOurVariables()
    {
        var plan = MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default"), ("MALLOC_ARENA_MAX", "1"),
            ("ACTORFACE_MALLOC_AT_START", "MALLOC_ARENA_MAX")), WithoutJemalloc);
        Assert.All(plan, c => Assert.Null(c.Value));
        Assert.Contains(plan, c => c.Name == "MALLOC_ARENA_MAX");
        Assert.Empty(MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default"), ("MALLOC_ARENA_MAX", "1")), WithoutJemalloc));
        Assert.Empty(MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default")), WithJemalloc));
    }

    [Fact]
    public void AnAllocatorTheUserPreloadedIsNotTouched() =>
        Assert.Empty(MallocStartup.Plan(Env(("LD_PRELOAD", "/opt/libtcmalloc.so")), WithJemalloc));

    [Fact]
    public void AnotherPreloadOfTheUsersMeansGlibcTuningNotJemalloc()
    {
        var plan = MallocStartup.Plan(Env(("LD_PRELOAD", "/opt/libtrace.so")), WithJemalloc);
        Assert.DoesNotContain(plan, c => c.Name == "LD_PRELOAD");
        Assert.Contains(("MALLOC_ARENA_MAX", (string?)"1"), plan);
    }
}
