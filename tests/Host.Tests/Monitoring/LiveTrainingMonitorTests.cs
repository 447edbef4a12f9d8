using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;
using ActorFace.Host.Tests.Train;
using Xunit.Abstractions;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>
/// The monitor against a real job: two `actorface train` processes on 127.0.0.1 (one rank each), found through the
/// run's cluster.json (no seed flags), watched by a monitor-role node while the non-coordinator process is SIGKILLed.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class LiveTrainingMonitorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new("af-livemon-");

    public void Dispose() => _dir.Dispose();

    /// <summary>Synthetic identities, MobileFaceNet 32-d, batch 4: far more steps than the test watches.</summary>
    private static readonly string[] Tiny =
    [
        .. TinyJob.Args(classes: 8, images: 16000, checkpointEvery: 5, "cluster.regroup_timeout=60s", "cluster.collective_timeout=15s", "cluster.start_workers=2"),
        "--workers-per-node", "1", "--min-workers", "1",
    ];

    [Fact]
    public async Task MonitorSeesBothRanksThenTheRecoveryToOneRank()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,5:F1}s {what}");
        var run = Path.Combine(_dir, "run");
        var port = FreePorts.One();
        var seed = $"akka.tcp://actorface@127.0.0.1:{port}";
        string[] common = [.. Tiny, "--output", run, "--seed-nodes", seed];
        // The seed node is the oldest member, so it hosts the coordinator singleton; the joiner is the one to kill.
        using var coordinatorNode = new ActorfaceProcess([.. common, "--port", port.ToString(CultureInfo.InvariantCulture)]);
        var joiner = new ActorfaceProcess(common); // disposed (SIGKILLed) by the test itself
        var joinerKilled = false;
        string Outputs() => $"--- seed node:\n{coordinatorNode.Output}\n--- joiner:\n{joiner.Output}";

        try
        {
            // What `actorface monitor --output DIR` does: the running job registered its address in <output>/cluster.json.
            var registration = await Eventually(() => File.Exists(LocalRunRegistry.OutputFile(run)) ? LocalRunRegistry.Find(run) : null,
                TimeSpan.FromSeconds(60), "the run's cluster.json", Outputs);
            Phase("cluster.json");
            // The monitor command itself, pointed at the run folder only; it runs alongside the in-test monitor.
            using var cli = new ActorfaceProcess("monitor", "--once", "--json", "--output", run, "--wait", "90");
            var (systemName, seeds) = MonitorNode.ParseSeeds(registration.SeedNodes);
            var system = MonitorNode.Start(systemName, "127.0.0.1", 0, seeds, "OFF");
            try
            {
                var monitor = system.ActorOf(MonitorActor.Props(), "monitor");
                Task<MonitorSnapshot> Snapshot() => monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(10));
                async Task<MonitorSnapshot> WaitFor(Func<MonitorSnapshot, bool> done, string what)
                {
                    MonitorSnapshot? last = null;
                    return await Eventually(async () => done(last = await Snapshot()) ? last : null, TimeSpan.FromSeconds(90), what,
                        () => $"last snapshot: {(last is null ? "none" : MonitorSnapshotJson.Serialize(last))}\n{Outputs()}");
                }

                // Both ranks of generation 1, training, with their loader and class shard.
                var first = await WaitFor(s => TrainingRanks(s, 1).SetEquals([0, 1]) && s.Shards.Count == 2
                    && s.Loaders.Count(l => l.Latest.SamplesDecoded > 0) == 2, "ranks 0 and 1 training");
                Phase("both ranks training");
                Assert.Contains(first.Members, m => m.Roles.Contains(MonitoringConfig.MonitorRole));
                Assert.All(first.Workers, w =>
                {
                    Assert.Equal(2, w.Latest.WorldSize);
                    Assert.True(w.Latest.RssBytes > 0, "worker RSS");
                    Assert.True(double.IsFinite(w.Latest.Loss) && w.Latest.StepTime.TotalMs > 0, "loss and step-time breakdown");
                });
                // 8 classes over 2 ranks: [0, 4) and [4, 8), every centre sampled (sample_rate 1), centres + optimiser state.
                Assert.Equal([(0, 4), (4, 4)], first.Shards.Select(s => (s.Latest.ClassStart, s.Latest.NumLocal)));
                Assert.All(first.Shards, s => Assert.True(s.Latest.SampledClassesPerStep == 4 && s.Latest.ShardBytes >= 4 * 32 * 4, "shard sampling and memory"));
                Assert.All(first.Loaders, l => Assert.True(l.Latest.DecodedImagesPerSecond > 0 && l.Latest.BatchesDelivered > 0, "loader decode rate"));
                var advanced = await WaitFor(s => s.Workers.Count(w => w.Latest.Generation == 1 && w.Latest.GlobalStep > StepOf(first, w.Latest.Rank)) == 2,
                    "both ranks' steps advancing");
                Phase($"generation 1: steps {Steps(first)} -> {Steps(advanced)}");

                await CheckCli(cli);
                Phase("monitor --once --json");
                await WaitFor(s => s.Coordinator?.LastCheckpoint is not null, "a manifested checkpoint");
                Phase("checkpoint; killing the joiner");
                joiner.Dispose();
                joinerKilled = true;
                var recovered = await WaitFor(s => s.Coordinator is { Generation: >= 2, Recoveries.Count: > 0 } c
                                                   && TrainingRanks(s, c.Generation).SetEquals([0]), "the recovery to one rank");

                Phase("recovered");
                var recovery = recovered.Coordinator!.Recoveries[^1];
                output.WriteLine($"recovery: {JsonSerializer.Serialize(recovery)}");
                Assert.Equal(recovered.Coordinator.Generation, recovery.Generation);
                Assert.Contains("aborted", recovery.Cause);
                Assert.True(recovery.DurationSeconds > 0, "recovery duration");
                Assert.Equal([0], recovered.Coordinator.Members.Where(m => m.Rank >= 0).Select(m => m.Rank));
                Assert.All(recovered.Workers.Where(w => w.Latest.Generation == recovered.Generation), w => Assert.Equal(1, w.Latest.WorldSize));
                Assert.True(recovered.Workers.Single(w => w.Latest.Rank == 1).Stale, "the killed rank is shown as stale");
                Assert.Contains(recovered.RecentEvents, e => e.Kind == ClusterEventKind.RecoveryStarted);
                Assert.Contains(recovered.RecentEvents, e => e.Kind == ClusterEventKind.Recovered && e.Generation == recovery.Generation);
                Assert.Contains(recovered.RecentEvents, e => e.Kind == ClusterEventKind.CheckpointManifested);
            }
            finally
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance)
                    .WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(_ => { });
            }
        }
        finally
        {
            if (!joinerKilled) joiner.Dispose();
        }
    }

    /// <summary>`monitor --once --json` returns a second after the first rank reports: both worker nodes are members by
    /// then, and at least one rank of generation 1 has reported.</summary>
    private static async Task CheckCli(ActorfaceProcess cli)
    {
        Assert.True(await cli.WaitAsync(TimeSpan.FromSeconds(120)) == 0, cli.Output);
        var json = string.Join('\n', cli.Output.Split('\n').Where(l => !l.StartsWith("ERR ", StringComparison.Ordinal)));
        var seen = MonitorSnapshotJson.Deserialize(json);
        Assert.Equal(2, seen.Members.Count(m => m.Roles.Contains("worker")));
        Assert.NotEmpty(seen.Workers);
        Assert.All(seen.Workers, w => Assert.True(w.Latest is { Generation: 1, WorldSize: 2, Rank: 0 or 1 }, $"rank {w.Latest.Rank}"));
    }

    private static HashSet<int> TrainingRanks(MonitorSnapshot s, long generation) =>
        s.Workers.Where(w => w.Latest.Generation == generation && w.Latest.State == WorkerState.Training && w.Latest.GlobalStep > 0)
            .Select(w => w.Latest.Rank).ToHashSet();

    private static long StepOf(MonitorSnapshot s, int rank) => s.Workers.Single(w => w.Latest.Rank == rank).Latest.GlobalStep;

    private static string Steps(MonitorSnapshot s) => string.Join(", ", s.Workers.Select(w => $"rank {w.Latest.Rank} @ {w.Latest.GlobalStep}"));

    private static Task<T> Eventually<T>(Func<T?> probe, TimeSpan timeout, string what, Func<string> context) where T : class =>
        Eventually(() => Task.FromResult(probe()), timeout, what, context);

    private static async Task<T> Eventually<T>(Func<Task<T?>> probe, TimeSpan timeout, string what, Func<string> context) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {what} within {timeout.TotalSeconds:F0}s\n{context()}");
            await Task.Delay(250);
        }
    }
}
