using Akka.Actor;
using Akka.Cluster;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Security;
using Spectre.Console;

namespace ActorFace.Host.Monitoring;

public sealed record MonitorOptions(
    IReadOnlyList<string> Seeds,
    string SystemName,
    string Hostname,
    int Port,
    bool Once,
    bool Json,
    TimeSpan Wait,
    TimeSpan JoinTimeout,
    TimeSpan Refresh,
    System.Net.IPEndPoint? Http,
    string? TensorBoardDir,
    bool Verbose,
    ClusterSecurity? Security = null);

/// <summary>What `actorface monitor` does once its options are parsed: join as `monitor`, aggregate, show.</summary>
public static class MonitorSession
{
    public static async Task<int> RunAsync(MonitorOptions o, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var system = MonitorNode.Start(o.SystemName, o.Hostname, o.Port, o.Seeds, o.Verbose ? "WARNING" : "OFF", o.Security);
        MonitorHttpServer? http = null;
        try
        {
            var sinks = o.TensorBoardDir is null ? Array.Empty<IMetricSink>() : [new TensorBoardLogger(o.TensorBoardDir)];
            var monitor = system.ActorOf(MonitorActor.Props(sinks: sinks), "monitor");
            Task<MonitorSnapshot> Snapshot(CancellationToken token) =>
                monitor.Ask<MonitorSnapshot>(GetSnapshot.Instance, TimeSpan.FromSeconds(5), token);

            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
            try { await up.Task.WaitAsync(o.JoinTimeout, ct); }
            catch (TimeoutException)
            {
                stderr.WriteLine($"error: could not join the cluster at {string.Join(", ", o.Seeds)} within {o.JoinTimeout.TotalSeconds:F0}s (is training running? is the address reachable?)");
                return 3;
            }

            if (o.Http is { } endpoint)
            {
                http = new MonitorHttpServer(endpoint, Snapshot).Start();
                stderr.WriteLine($"monitor: serving {http.BaseUrl} (/status, /metrics)");
            }

            var connection = $"{Cluster.Get(system).SelfAddress} -> {string.Join(", ", o.Seeds)}";
            if (o.Once)
            {
                var snapshot = await CollectOnce(Snapshot, o.Wait, ct);
                if (o.Json) stdout.WriteLine(MonitorSnapshotJson.Serialize(snapshot, indented: true));
                else AnsiConsole.Write(DashboardView.Render(snapshot, connection));
                return 0;
            }

            await AnsiConsole.Live(new Markup("[grey]waiting for metrics…[/]")).AutoClear(false).StartAsync(async ctx =>
            {
                while (!ct.IsCancellationRequested)
                {
                    ctx.UpdateTarget(DashboardView.Render(await Snapshot(ct), connection));
                    try { await Task.Delay(o.Refresh, ct); } catch (OperationCanceledException) { }
                }
            });
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            if (http is not null) await http.DisposeAsync();
            // Leave the cluster properly so the training side sees a clean exit, not an unreachable member.
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance)
                .WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(_ => { });
        }
    }

    /// <summary>Collects for at most <paramref name="wait"/>, but returns a second after the first rank reports.</summary>
    private static async Task<MonitorSnapshot> CollectOnce(Func<CancellationToken, Task<MonitorSnapshot>> snapshot, TimeSpan wait, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        DateTime? firstWorker = null;
        while (true)
        {
            var s = await snapshot(ct);
            if (s.Workers.Count > 0) firstWorker ??= DateTime.UtcNow;
            if (DateTime.UtcNow >= deadline || DateTime.UtcNow - firstWorker >= TimeSpan.FromSeconds(1)) return s;
            await Task.Delay(200, ct);
        }
    }
}
