using ActorFace.Actors.Hosting;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Security;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;
using Akka.Actor;

namespace ActorFace.Host.Clustering;

/// <summary>One training process: its actor system, cluster membership, the job's actors, and a clean shutdown.</summary>
public static class ClusterRuntime
{
    /// <summary>Runs this process's part of the job; returns how the job ended (or why this node could not take part).</summary>
    public static async Task<TrainingEnded> RunAsync(TrainingSettings settings, Akka.Configuration.Config userHocon,
        Func<RankServices> services, TextWriter console, Func<ActorSystem, IAsyncDisposable>? attach = null,
        ClusterSecurity? security = null)
    {
        security ??= ClusterSecurity.None;
        // The job file's own `akka { }` section (if any) wins over ours.
        // Akka's CLR hook would run CoordinatedShutdown on SIGTERM (its own signal registration) and end the job on
        // the spot; a training process handles SIGTERM itself (GracefulStop: checkpoint first) and leaves the cluster
        // in the finally below.
        var akka = userHocon
            .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off"))
            .WithFallback(ClusterHocon.Build(settings));
        // Checked on the effective address (a job file's akka block may override cluster.hostname), before binding.
        var hostname = akka.GetString("akka.remote.dot-netty.tcp.hostname", settings.Cluster.Hostname);
        security.RequireRemote(hostname);
        var system = security.CreateSystem(ClusterHocon.SystemName, akka);
        try
        {
            var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
            console.WriteLine(security.Summary);
            console.WriteLine(security.DescribeRemote(hostname, self.Port ?? settings.Cluster.Port));
            try
            {
                await TrainingNode.JoinAsync(system, settings);
            }
            catch (TimeoutException e)
            {
                var hint = security.Enabled
                    ? " With cluster security on, a node whose secret or certificate the seed does not accept is refused at the TLS handshake: check that every node uses the same cluster secret / CA."
                      + (security.LastRefusal is { } refusal ? $" This node refused {refusal}." : "")
                    : " If the cluster runs with a cluster secret or TLS, this node must use it too (docs/security.md).";
                return new TrainingEnded(false, e.Message + hint, 0);
            }
            console.WriteLine($"actorface node {self} up; {settings.Cluster.WorkersPerNode} rank slot(s); waiting for {settings.EffectiveMinWorkers} rank(s)");
            await using var attached = attach?.Invoke(system);
            var outcome = TrainingNode.Start(system, settings, services(), console);
            using var stop = new GracefulStop(system, console, settings.StopGracePeriod);
            var terminated = system.WhenTerminated;
            var first = await Task.WhenAny(outcome, terminated);
            if (first != outcome)
                return new TrainingEnded(false, "this node left the cluster (downed, or its actor system stopped) before the job ended", 0);
            return await outcome;
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ActorSystemTerminateReason.Instance);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
        }
    }
}
