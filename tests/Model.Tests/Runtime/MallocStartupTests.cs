using ActorFace.Model.Runtime;
using Xunit;

namespace ActorFace.Model.Tests.Runtime;

public class MallocStartupTests
{
    static Func<string, string?> Env(params (string, string)[] vars) =>
        name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    [Fact]
    public void AFreshProcessGetsTheThreeVariablesAndTheMarker()
    {
        var plan = MallocStartup.Plan(Env());
        Assert.Equal(
            [("MALLOC_ARENA_MAX", "1"), ("MALLOC_MMAP_MAX_", "0"), ("MALLOC_TRIM_THRESHOLD_", "18446744073709551615"), ("ACTORFACE_MALLOC_AT_START", "1")],
            plan.Select(c => (c.Name, c.Value)).ToArray());
    }

    [Fact]
    public void AProcessStartedWithTheSettingsIsNotReexecuted() =>
        Assert.Empty(MallocStartup.Plan(Env(("MALLOC_ARENA_MAX", "1"), ("MALLOC_MMAP_MAX_", "0"), ("ACTORFACE_MALLOC_AT_START", "1"))));

    [Fact]
    public void TheUsersOwnArenaLimitIsLeftAlone() =>
        Assert.Empty(MallocStartup.Plan(Env(("MALLOC_ARENA_MAX", "4"))));

    [Fact]
    public void TheUsersOwnTrimThresholdIsKept()
    {
        var plan = MallocStartup.Plan(Env(("MALLOC_TRIM_THRESHOLD_", "1000")));
        Assert.DoesNotContain(plan, c => c.Name == "MALLOC_TRIM_THRESHOLD_");
        Assert.Contains(plan, c => c.Name == "MALLOC_ARENA_MAX");
    }

    [Fact]
    public void DefaultMallocInAChildOfATunedProcessRemovesOnlyOurVariables()
    {
        var plan = MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default"), ("MALLOC_ARENA_MAX", "1"), ("ACTORFACE_MALLOC_AT_START", "1")));
        Assert.All(plan, c => Assert.Null(c.Value));
        Assert.Contains(plan, c => c.Name == "MALLOC_ARENA_MAX");
        Assert.Empty(MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default"), ("MALLOC_ARENA_MAX", "1"))));
        Assert.Empty(MallocStartup.Plan(Env(("ACTORFACE_MALLOC", "default"))));
    }

    [Fact]
    public void APreloadedAllocatorIsNotTouched() =>
        Assert.Empty(MallocStartup.Plan(Env(("LD_PRELOAD", "/usr/lib/libjemalloc.so"))));
}
