using ActorFace.Actors.Tests.Fakes;
using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Tests.Runtime;

/// <summary>
/// The NCCL path of the runtime through real actors (coordinator singleton, worker node, GpuWorkers) with a fake
/// NCCL backend behind the same interface: rank 0's unique id reaches every rank through the coordinator, each
/// generation gets a new communicator, and an aborted generation's communicators are aborted in the backend.
/// </summary>
public sealed class NcclRuntimeTests : IDisposable
{
    private readonly TempDirectory _root = new("actorface-nccl-");
    public void Dispose() => _root.Dispose();

    private static RankServices Services(FakeRunLog log, FakeNccl nccl, (int, int, long)? failAt = null) =>
        new(new FakeTrainerFactory(log) { FailAt = failAt }, new FakeDataFactory(40), new FakeNcclCollectives(nccl));

    [Fact]
    public async Task AutoOnCudaExchangesRank0sIdThroughTheCoordinator()
    {
        var nccl = new FakeNccl();
        var log = new FakeRunLog();
        var settings = InProcessJob.Settings(Path.Combine(_root, "ok"), ranks: 2, batch: 4) with { Device = "cuda" };
        var result = await InProcessJob.RunAsync(settings, Services(log, nccl));
        Assert.True(result.Success, result.Message);
        var id = Assert.Single(nccl.IdsCreated);
        Assert.Equal([(0, 2, id), (1, 2, id)], nccl.Joins.OrderBy(j => j.Rank));
        Assert.Empty(nccl.Aborts.Where(a => !a.Reason.Contains("training ended")));
    }

    [Fact]
    public async Task AnAbortedGenerationAbortsItsCommunicatorsAndTheNextGetsANewOne()
    {
        var nccl = new FakeNccl();
        var log = new FakeRunLog();
        var settings = InProcessJob.Settings(Path.Combine(_root, "abort"), ranks: 2, batch: 4) with { Device = "cuda", Collective = "nccl" };
        var result = await InProcessJob.RunAsync(settings, Services(log, nccl, failAt: (1, 1, 5)));
        Assert.True(result.Success, result.Message);
        var ids = nccl.IdsCreated.ToArray();
        Assert.Equal(2, ids.Length);
        Assert.NotEqual(ids[0], ids[1]);
        // Rank 0 of generation 1 was blocked in a collective with the failed rank: the abort reached its communicator.
        Assert.Contains(nccl.Aborts, a => a.Rank == 0 && a.Id == ids[0] && a.Reason.Contains("rank 1 failed"));
        Assert.Equal(2, nccl.Joins.Count(j => j.Id == ids[1]));
    }

    [Theory]
    [InlineData("auto", true)]   // falls back to the protected collective
    [InlineData("nccl", false)]  // forced: the job ends with the refusal
    public async Task AWorldTheSecurityRuleRefusesNeverMakesAnId(string collective, bool succeeds)
    {
        var nccl = new FakeNccl();
        var settings = InProcessJob.Settings(Path.Combine(_root, "refused-" + collective), ranks: 2, batch: 4) with { Device = "cuda", Collective = collective };
        var services = new RankServices(new FakeTrainerFactory(new FakeRunLog()), new FakeDataFactory(40),
            new FakeNcclCollectives(nccl, refuse: "NCCL collective: ranks on 10.0.0.5 would exchange tensors over the network"));
        var result = await InProcessJob.RunAsync(settings, services);
        Assert.Equal(succeeds, result.Success);
        if (!succeeds) Assert.Contains("NCCL is unavailable on", result.Message);
        if (!succeeds) Assert.Contains("10.0.0.5", result.Message);
        Assert.Empty(nccl.IdsCreated);
    }

    [Fact]
    public async Task ForcedNcclOnTheCpuEndsTheJobWithAnErrorNamingTheKey()
    {
        var settings = InProcessJob.Settings(Path.Combine(_root, "cpu"), ranks: 2, batch: 4) with { Collective = "nccl" };
        var result = await InProcessJob.RunAsync(settings, Services(new FakeRunLog(), new FakeNccl()));
        Assert.False(result.Success);
        Assert.Contains("collective = nccl needs device = cuda", result.Message);
    }
}
