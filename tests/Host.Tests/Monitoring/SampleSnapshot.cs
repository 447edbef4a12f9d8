using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>A MonitorState filled with two ranks, their loaders and shards, a coordinator and a recovery.</summary>
internal static class SampleSnapshot
{
    public static readonly DateTime Now = DateTime.UtcNow;

    public static WorkerMetrics Worker(int rank, long step, double loss, string node = "node-a") =>
        new(node, rank, 2, 2, WorkerState.Training, step, 250 + 10 * rank, loss, 0.1 - step * 1e-4, 3.0 + rank,
            new StepTimeBreakdown(2 + rank, 30, 12, 55, 9 + 4 * rank, 3), (3L << 30) + rank, (12L << 30) + rank, MetricClock.NowMs());

    public static MonitorState State(string node1 = "node-b")
    {
        var state = new MonitorState(staleAfter: TimeSpan.FromMinutes(5));
        for (var step = 10; step <= 300; step += 10)
        {
            var loss = 5 + 40 * Math.Exp(-step / 120.0);
            state.Apply(Worker(0, step, loss), Now);
            state.Apply(Worker(1, step, loss, node1), Now);
            if (step % 100 == 0)
            {
                state.Apply(new VerificationMetrics("node-a", "lfw", step, 0.6 + step / 1000.0, 0.9, MetricClock.NowMs()), Now);
                state.Apply(new VerificationMetrics("node-a", "agedb_30", step, 0.5 + step / 1200.0, 0.8, MetricClock.NowMs()), Now);
            }
        }
        state.Apply(new LoaderMetrics("node-a", 0, 3, 4, 1830, 0, MetricClock.NowMs()), Now);
        state.Apply(new LoaderMetrics(node1, 1, 1, 4, 1620, 2, MetricClock.NowMs()), Now);
        state.Apply(new ShardMetrics("node-a", 0, 0, 5000, 1000, 10_240_000, MetricClock.NowMs()), Now);
        state.Apply(new ShardMetrics(node1, 1, 5000, 5000, 1000, 10_240_000, MetricClock.NowMs()), Now);
        state.ApplyMember("akka.tcp://actorface@127.0.0.1:4053", "Up", ["worker"], Now);
        state.ApplyMember("akka.tcp://actorface@127.0.0.1:4054", "Up", ["worker"], Now);
        state.ApplyMember("akka.tcp://actorface@127.0.0.1:4060", "Up", ["monitor"], Now);
        state.Apply(new CoordinatorMetrics("node-a", 2,
            [new MemberInfo("akka.tcp://actorface@127.0.0.1:4053", "Up", ["worker"], 0),
             new MemberInfo("akka.tcp://actorface@127.0.0.1:4054", "Up", ["worker"], 1)],
            [new RecoveryInfo(2, "node-b unreachable", 4.2, 200, MetricClock.NowMs())],
            new CheckpointInfo(200, "runs/demo/checkpoint-200/manifest.json", MetricClock.NowMs()),
            300, 2000, 612, MetricClock.NowMs()), Now);
        state.Apply(new ClusterEvent("node-a", ClusterEventKind.CheckpointManifested, 1, 200, "checkpoint 200 manifested", MetricClock.NowMs()), Now);
        state.Apply(new ClusterEvent("node-a", ClusterEventKind.RecoveryStarted, 2, 230, "node-b unreachable, re-forming world", MetricClock.NowMs()), Now);
        state.Apply(new ClusterEvent("node-a", ClusterEventKind.Recovered, 2, 200, "recovered from checkpoint 200 in 4.2 s", MetricClock.NowMs()), Now);
        state.Apply(new ActorSystemStats("node-a", [new ActorCount("akka://actorface/user/worker-0", 1)],
            [new ActorCount("akka://actorface/user/loader-0", 3)], 4, MetricClock.NowMs()), Now);
        return state;
    }
}
