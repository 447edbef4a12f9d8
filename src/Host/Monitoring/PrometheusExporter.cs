using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Monitoring;

/// <summary>
/// Renders a <see cref="MonitorSnapshot"/> as Prometheus text. Written by hand rather than with prometheus-net:
/// the monitor already aggregates into snapshots, and a ~100-line writer avoids a global mutable metric registry.
/// </summary>
public static class PrometheusExporter
{
    public static string Render(MonitorSnapshot s)
    {
        var p = new PrometheusText();
        var workers = s.Workers.Select(w => (w, Labels: new[] { ("rank", Str(w.Latest.Rank)), ("node", w.Latest.Node) })).ToArray();

        WorkerGauge(p, workers, "actorface_worker_global_step", "Last global step reported by the rank.", w => w.GlobalStep);
        WorkerGauge(p, workers, "actorface_worker_samples_per_second", "Training throughput of the rank.", w => w.SamplesPerSecond);
        WorkerGauge(p, workers, "actorface_worker_loss", "Training loss at the last reported step.", w => w.Loss);
        WorkerGauge(p, workers, "actorface_worker_learning_rate", "Learning rate at the last reported step.", w => w.LearningRate);
        WorkerGauge(p, workers, "actorface_worker_grad_norm", "Gradient norm before clipping.", w => w.GradNorm);
        WorkerGauge(p, workers, "actorface_worker_skipped_steps", "Steps of this generation skipped because their loss was NaN or infinite.", w => w.SkippedSteps);
        WorkerGauge(p, workers, "actorface_worker_generation", "World generation the rank belongs to.", w => w.Generation);
        WorkerGauge(p, workers, "actorface_worker_rss_bytes", "Resident set size of the rank's process.", w => w.RssBytes);
        WorkerGauge(p, workers, "actorface_worker_gpu_memory_bytes", "Accelerator memory in use by the rank.", w => w.GpuMemoryBytes);
        var scaled = workers.Where(x => !double.IsNaN(x.w.Latest.GradScale)).ToArray();
        if (scaled.Length > 0)
            WorkerGauge(p, scaled, "actorface_worker_fp16_grad_scale", "fp16 GradScaler loss scale after the last reported step.", w => w.GradScale);

        p.Family("actorface_worker_step_seconds", "gauge", "Time per training step by phase.");
        foreach (var (w, labels) in workers)
        {
            var t = w.Latest.StepTime;
            foreach (var (phase, ms) in new[] { ("data_wait", t.DataWaitMs), ("forward", t.ForwardMs), ("partial_fc", t.PartialFcMs),
                         ("backward", t.BackwardMs), ("all_reduce", t.AllReduceMs), ("optimizer", t.OptimizerMs) })
                p.Sample("actorface_worker_step_seconds", ms / 1000.0, [.. labels, ("phase", phase)]);
        }

        p.Family("actorface_worker_state", "gauge", "1 for the rank's current state.");
        foreach (var (w, labels) in workers)
            p.Sample("actorface_worker_state", 1, [.. labels, ("state", w.Latest.State.ToString().ToLowerInvariant())]);

        p.Family("actorface_worker_age_seconds", "gauge", "Seconds since the monitor last heard from the rank.");
        foreach (var (w, labels) in workers) p.Sample("actorface_worker_age_seconds", w.AgeSeconds, labels);
        p.Family("actorface_worker_stale", "gauge", "1 if the rank's last record is too old or from a past generation.");
        foreach (var (w, labels) in workers) p.Sample("actorface_worker_stale", w.Stale ? 1 : 0, labels);

        var loaders = s.Loaders.Select(l => (l.Latest, Labels: new[] { ("rank", Str(l.Latest.Rank)), ("node", l.Latest.Node) })).ToArray();
        Gauge(p, loaders, "actorface_loader_queue_depth", "Decoded batches waiting for the worker.", l => l.QueueDepth);
        Gauge(p, loaders, "actorface_loader_credits", "Batch credits granted by the worker.", l => l.Credits);
        Gauge(p, loaders, "actorface_loader_decoded_images_per_second", "Image decode rate.", l => l.DecodedImagesPerSecond);
        Gauge(p, loaders, "actorface_loader_corrupt_skipped_total", "Corrupt records skipped so far.", l => l.CorruptSkipped, "counter");

        var shards = s.Shards.Select(x => (x.Latest, Labels: new[] { ("rank", Str(x.Latest.Rank)), ("node", x.Latest.Node) })).ToArray();
        Gauge(p, shards, "actorface_shard_class_start", "First class index owned by the shard.", x => x.ClassStart);
        Gauge(p, shards, "actorface_shard_local_classes", "Number of class centres owned by the shard.", x => x.NumLocal);
        Gauge(p, shards, "actorface_shard_sampled_classes", "Classes sampled per step by Partial FC.", x => x.SampledClassesPerStep);
        Gauge(p, shards, "actorface_shard_bytes", "Bytes of class centres and optimizer state.", x => x.ShardBytes);

        p.Family("actorface_cluster_generation", "gauge", "Highest world generation seen.").Sample("actorface_cluster_generation", s.Generation);
        p.Family("actorface_cluster_global_step", "gauge", "Highest global step reported.").Sample("actorface_cluster_global_step", s.GlobalStep);
        p.Family("actorface_cluster_samples_per_second", "gauge", "Sum of fresh ranks' throughput.")
            .Sample("actorface_cluster_samples_per_second", s.ClusterSamplesPerSecond);
        p.Family("actorface_monitor_records_received_total", "counter", "Monitoring records received by this monitor.")
            .Sample("actorface_monitor_records_received_total", s.MetricsReceived);
        p.Family("actorface_cluster_members", "gauge", "Cluster members by status.");
        foreach (var g in s.Members.GroupBy(m => m.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
            p.Sample("actorface_cluster_members", g.Count(), ("status", g.Key));

        if (s.Coordinator is { } c)
        {
            p.Family("actorface_cluster_recoveries_total", "counter", "Recoveries reported by the coordinator.")
                .Sample("actorface_cluster_recoveries_total", c.Recoveries.Count);
            p.Family("actorface_cluster_total_steps", "gauge", "Planned number of global steps.").Sample("actorface_cluster_total_steps", c.TotalSteps);
            p.Family("actorface_cluster_eta_seconds", "gauge", "Estimated seconds to the end of training (NaN: unknown).")
                .Sample("actorface_cluster_eta_seconds", c.EtaSeconds);
            if (c.LastCheckpoint is { } cp)
                p.Family("actorface_cluster_last_checkpoint_step", "gauge", "Step of the last manifested checkpoint.")
                    .Sample("actorface_cluster_last_checkpoint_step", cp.Step);
        }

        if (s.Verification.Count > 0)
        {
            p.Family("actorface_verification_accuracy", "gauge", "Last verification accuracy per target.");
            foreach (var v in s.Verification.Values) p.Sample("actorface_verification_accuracy", v.Accuracy, ("target", v.Target));
        }

        p.Family("actorface_actor_failures_total", "counter", "Supervisor-logged actor failures (restart or stop).");
        foreach (var n in s.Systems)
            foreach (var f in n.Latest.Failures) p.Sample("actorface_actor_failures_total", f.Count, ("node", n.Latest.Node), ("actor", f.Actor));
        p.Family("actorface_actor_mailbox_depth", "gauge", "Messages waiting in a watched actor's mailbox.");
        foreach (var n in s.Systems)
            foreach (var m in n.Latest.MailboxDepths) p.Sample("actorface_actor_mailbox_depth", m.Count, ("node", n.Latest.Node), ("actor", m.Actor));
        p.Family("actorface_dead_letters_total", "counter", "Dead letters on the node.");
        foreach (var n in s.Systems) p.Sample("actorface_dead_letters_total", n.Latest.DeadLetters, ("node", n.Latest.Node));

        return p.ToString();
    }

    private static void WorkerGauge(PrometheusText p, (Observed<WorkerMetrics> w, (string, string)[] Labels)[] rows,
        string name, string help, Func<WorkerMetrics, double> value)
    {
        p.Family(name, "gauge", help);
        foreach (var (w, labels) in rows) p.Sample(name, value(w.Latest), labels);
    }

    private static void Gauge<T>(PrometheusText p, (T Latest, (string, string)[] Labels)[] rows,
        string name, string help, Func<T, double> value, string type = "gauge")
    {
        p.Family(name, type, help);
        foreach (var (latest, labels) in rows) p.Sample(name, value(latest), labels);
    }

    private static string Str(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
