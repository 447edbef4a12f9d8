using ActorFace.Actors.Monitoring;

namespace ActorFace.Actors.Tests.Monitoring;

/// <summary>Plausible records for tests; values are arbitrary but distinct per rank so mix-ups show.</summary>
internal static class SampleMetrics
{
    public static WorkerMetrics Worker(int rank, long step, long generation = 1, double loss = 40.0,
        double samplesPerSecond = 100.0, WorkerState state = WorkerState.Training, string node = "node-a") =>
        new(node, rank, 2, generation, state, step, samplesPerSecond + rank, loss, 0.1 * (1 - step / 1000.0), 2.5,
            new StepTimeBreakdown(1 + rank, 10, 5, 20, 4, 2), 1_000_000_000L + rank, 2_000_000_000L + rank,
            MetricClock.NowMs());

    public static ClusterEvent Recovery(long generation, string message = "rank 1 lost: node-b unreachable") =>
        new("node-a", ClusterEventKind.Recovered, generation, 200, message, MetricClock.NowMs());

    public static CoordinatorMetrics Coordinator(long generation) =>
        new("node-a", generation,
            [new MemberInfo("akka.tcp://actorface@127.0.0.1:4053", "Up", ["worker"], 0),
             new MemberInfo("akka.tcp://actorface@127.0.0.1:4054", "Up", ["worker"], 1)],
            [new RecoveryInfo(generation, "node-b unreachable", 3.5, 200, MetricClock.NowMs())],
            new CheckpointInfo(200, "/runs/x/checkpoint-200/manifest.json", MetricClock.NowMs()),
            250, 1000, double.NaN, MetricClock.NowMs());
}
