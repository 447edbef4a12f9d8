using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;
using ClusterEvent = ActorFace.Actors.Monitoring.ClusterEvent;

namespace ActorFace.Host.Monitoring;

/// <summary>
/// `actorface monitor demo`: a fake training node publishing synthetic records for N ranks (with a checkpoint and a
/// recovery now and then), to try the dashboard and the HTTP page without training. Shows the record shapes the
/// runtime is expected to publish.
/// </summary>
public static class DemoPublisher
{
    public static async Task RunAsync(ActorSystem system, int ranks, TimeSpan interval, CancellationToken ct)
    {
        var node = Cluster.Get(system).SelfAddress.ToString();
        var random = new Random(7);
        long generation = 1;
        for (long step = 10; !ct.IsCancellationRequested; step += 10)
        {
            var now = MetricClock.NowMs();
            var loss = 5 + 40 * Math.Exp(-step / 800.0) + random.NextDouble() * 0.3;
            var lr = 0.1 * Math.Max(0, 1 - step / 20000.0);
            for (var r = 0; r < ranks; r++)
            {
                var t = new StepTimeBreakdown(1 + random.NextDouble() * 3 * r, 30, 12, 58, 8 + 2 * r, 3);
                MetricsPublisher.Publish(system, new WorkerMetrics(node, r, ranks, generation, WorkerState.Training, step,
                    128 * 1000 / t.TotalMs, loss, lr, 2 + random.NextDouble(), t, 3L << 30, 11L << 30, now));
                MetricsPublisher.Publish(system, new LoaderMetrics(node, r, random.Next(0, 5), 4, 1500 + random.Next(400), step / 1000, now));
                MetricsPublisher.Publish(system, new ShardMetrics(node, r, r * 93431 / ranks, 93431 / ranks, 9343 / ranks, 93431L / ranks * 512 * 4 * 3, now));
            }
            if (step % 500 == 0)
            {
                MetricsPublisher.Publish(system, new VerificationMetrics(node, "lfw", step, 0.99 - 0.4 * Math.Exp(-step / 1000.0), 0.99, now));
                MetricsPublisher.Publish(system, new ClusterEvent(node, ClusterEventKind.CheckpointManifested, generation, step, $"checkpoint {step} manifested", now));
            }
            if (step % 1500 == 0)
            {
                generation++;
                MetricsPublisher.Publish(system, new ClusterEvent(node, ClusterEventKind.Recovered, generation, step, $"demo recovery: generation {generation}", now));
            }
            MetricsPublisher.Publish(system, new CoordinatorMetrics(node, generation,
                [new MemberInfo(node, "Up", ["worker"], 0)], [], null, step, 20000, (20000 - step) * interval.TotalSeconds / 10, now));
            try { await Task.Delay(interval, ct); } catch (OperationCanceledException) { }
        }
    }
}
