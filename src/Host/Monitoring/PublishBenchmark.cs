using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Monitoring;

/// <summary>
/// `actorface monitor bench`: cost of MetricsPublisher.Publish for WorkerMetrics on the three routes a run uses:
/// local EventStream, DistributedPubSub to a monitor on the same node, and to a monitor on another node (loopback).
/// Reports the caller-side cost per publish and the time until the monitor has aggregated all records.
/// </summary>
public static class PublishBenchmark
{
    public sealed record Result(string Route, int Count, double MicrosPerPublish, double DeliveredPerSecond);

    public static async Task<IReadOnlyList<Result>> RunAsync(int count, Action<Result> onResult)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "--count must be at least 1");
        var results = new List<Result>();

        using (var local = ActorSystem.Create("bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(MonitoringConfig.Default)))
            results.Add(await Measure("local EventStream", local, local, count));
        onResult(results[^1]);

        var a = ActorSystem.Create("bench", MonitorNode.ClusterConfig("127.0.0.1", 0, ["worker"], [], "WARNING"));
        var b = ActorSystem.Create("bench", MonitorNode.ClusterConfig("127.0.0.1", 0, [MonitoringConfig.MonitorRole], [], "WARNING"));
        try
        {
            var seed = Cluster.Get(a).SelfAddress;
            await Cluster.Get(a).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(30));
            await Cluster.Get(b).JoinAsync(seed).WaitAsync(TimeSpan.FromSeconds(30));
            results.Add(await Measure("DistributedPubSub, same node", a, a, count));
            onResult(results[^1]);
            results.Add(await Measure("DistributedPubSub, remote node (loopback)", a, b, count));
            onResult(results[^1]);
        }
        finally
        {
            await Task.WhenAll(a.Terminate(), b.Terminate()).WaitAsync(TimeSpan.FromSeconds(30));
        }
        return results;
    }

    private static async Task<Result> Measure(string route, ActorSystem publisher, ActorSystem monitorSystem, int count)
    {
        var monitor = monitorSystem.ActorOf(MonitorActor.Props(), "bench-monitor-" + Guid.NewGuid().ToString("N")[..8]);
        // Warm up until the subscription is visible from the publisher (pub-sub registrations spread by gossip).
        var warm = 0L;
        for (var i = 0; ; i++)
        {
            MetricsPublisher.Publish(publisher, Sample(0, -1));
            await Task.Delay(50);
            warm = (await monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(10))).MetricsReceived;
            if (warm > 0) break;
            if (i > 400) throw new TimeoutException($"{route}: the monitor never received a record");
        }
        await Task.Delay(200);
        warm = (await monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(10))).MetricsReceived;

        var records = Enumerable.Range(0, count).Select(i => Sample(i % 8, i)).ToArray();
        var clock = Stopwatch.StartNew();
        foreach (var r in records) MetricsPublisher.Publish(publisher, r);
        var publishElapsed = clock.Elapsed;
        while ((await monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(10))).MetricsReceived < warm + count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"{route}: not all {count} records arrived");
            await Task.Delay(5);
        }
        var delivered = clock.Elapsed;
        monitorSystem.Stop(monitor);
        return new Result(route, count, publishElapsed.TotalMilliseconds * 1000 / count, count / delivered.TotalSeconds);
    }

    private static WorkerMetrics Sample(int rank, long step) =>
        new("bench", rank, 8, 1, WorkerState.Training, step, 512, 20.5, 0.1, 3.2,
            new StepTimeBreakdown(1, 30, 10, 60, 8, 4), 4L << 30, 20L << 30, MetricClock.NowMs());
}
