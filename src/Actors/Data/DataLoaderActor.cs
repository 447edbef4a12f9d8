using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using ActorFace.Model.Data;

namespace ActorFace.Actors.Data;

/// <summary>
/// Feeds one rank: its share of the dataset (<see cref="DistributedSampler"/>), decoded and collated by
/// <c>Workers</c> background threads, handed out strictly against credits (<see cref="CreditSchedule"/>).
/// Decoding happens off the actor thread; workers report back with messages, so all state stays actor-owned.
/// Publishes its <see cref="LoaderMetrics"/> (rank = the sampler's rank) every <see cref="MetricsInterval"/> and at
/// each epoch end. Created by <see cref="FeedProps"/> it is a rank's data feed (DataLoaderActor.Feed.cs).
/// </summary>
public sealed partial class DataLoaderActor : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan MetricsInterval = TimeSpan.FromSeconds(2);

    sealed record PublishTick
    {
        public static readonly PublishTick Instance = new();
    }

    sealed record Job(int Generation, int Epoch, int Step, int[] Indices);
    sealed record BatchBuilt(int Generation, int Step, Batch Batch, List<CorruptRecord> Corrupt, long Ticks);
    sealed record BatchBuildFailed(int Generation, int Step, Exception Error);

    readonly IFaceDataset dataset;
    readonly DistributedSampler sampler;
    readonly DataLoaderSettings settings;
    readonly BatchBuilder builder;
    readonly CreditSchedule schedule;
    readonly Dictionary<int, Batch> ready = [];
    readonly BlockingCollection<Job> jobs = new();
    readonly List<Thread> workers = [];
    readonly HashSet<string> warnedFiles = [];
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly string node = MetricsPublisher.NodeName(Context.System);

    IActorRef consumer = ActorRefs.Nobody;
    int[] epochIndices = [];
    int generation, epoch, steps;
    volatile int liveGeneration;
    bool finishedSent;
    long delivered, samplesDecoded, decodeTicks, corruptTotal, corruptEpoch;
    long waitTicks, waitStarted = -1;

    public DataLoaderActor(IFaceDataset dataset, DistributedSampler sampler, DataLoaderSettings settings, RankFeed? feed = null)
    {
        this.feed = feed;
        this.dataset = dataset;
        this.sampler = sampler;
        this.settings = settings.Validated();
        builder = new BatchBuilder(dataset, settings.Seed, settings.BadRecords == BadRecordPolicy.Skip);
        schedule = new CreditSchedule(settings.Prefetch);

        Receive<StartEpoch>(OnStartEpoch);
        Receive<RequestBatches>(m =>
        {
            consumer = Sender;
            schedule.Grant(m.Credits);
            Pump();
        });
        Receive<BatchBuilt>(OnBuilt);
        Receive<BatchBuildFailed>(OnFailed);
        Receive<GetLoaderMetrics>(_ => Sender.Tell(Metrics()));
        if (feed is not null) ReceiveFeed();
        Receive<PublishTick>(_ => MetricsPublisher.Publish(Context.System, Metrics()));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IFaceDataset dataset, DistributedSampler sampler, DataLoaderSettings settings) =>
        Akka.Actor.Props.Create(() => new DataLoaderActor(dataset, sampler, settings));

    protected override void PreStart()
    {
        StartFeed();
        for (int w = 0; w < settings.Workers; w++)
        {
            var t = new Thread(WorkerLoop) { IsBackground = true, Name = $"data-worker-{w}" };
            workers.Add(t);
            t.Start(Self);
        }
        Timers.StartPeriodicTimer(PublishTick.Instance, PublishTick.Instance, MetricsInterval);
    }

    protected override void PostStop()
    {
        liveGeneration = -1;
        jobs.CompleteAdding();
        foreach (var t in workers) t.Join(TimeSpan.FromSeconds(10));
        foreach (var b in ready.Values) b.Dispose();
        ready.Clear();
        jobs.Dispose();
    }

    void OnStartEpoch(StartEpoch m)
    {
        if (feed is null && Sender != ActorRefs.NoSender && !Sender.IsNobody()) consumer = Sender;
        generation++;
        liveGeneration = generation;
        foreach (var b in ready.Values) b.Dispose();
        ready.Clear();
        sampler.SetEpoch(m.Epoch);
        epoch = m.Epoch;
        epochIndices = sampler.Indices();
        steps = epochIndices.Length / settings.BatchSize;
        if (m.FirstStep < 0 || m.FirstStep > steps)
        {
            Fail(m.FirstStep, $"StartEpoch step {m.FirstStep} is outside epoch {m.Epoch}, which has {steps} batches of {settings.BatchSize}");
            return;
        }
        schedule.Reset(m.FirstStep, steps);
        finishedSent = false;
        corruptEpoch = 0;
        Pump();
    }

    void OnBuilt(BatchBuilt m)
    {
        if (m.Generation != generation)
        {
            m.Batch.Dispose();
            return;
        }
        samplesDecoded += m.Batch.Size;
        decodeTicks += m.Ticks;
        foreach (var c in m.Corrupt)
        {
            corruptTotal++;
            corruptEpoch++;
            if (warnedFiles.Add(c.File))
                log.Warning("Skipping corrupt record (further ones in this file are only counted): {0}", c.Message);
        }
        ready[m.Step] = m.Batch;
        schedule.Completed(m.Step);
        Pump();
    }

    void OnFailed(BatchBuildFailed m)
    {
        if (m.Generation != generation) return;
        Fail(m.Step, m.Error.Message);
    }

    void Fail(int step, string reason)
    {
        log.Error("Data loader failed at epoch {0} step {1}: {2}", epoch, step, reason);
        consumer.Tell(feed is null ? new LoaderFailed(epoch, step, reason) : new FeedFailed($"epoch {epoch} step {step}: {reason}"));
        Context.Stop(Self);
    }

    void Pump()
    {
        while (schedule.TryDispatch(out int step))
            jobs.Add(new Job(generation, epoch, step, epochIndices[(step * settings.BatchSize)..((step + 1) * settings.BatchSize)]));
        while (schedule.TryDeliver(out int step))
        {
            var batch = ready[step];
            ready.Remove(step);
            delivered++;
            consumer.Tell(feed is null ? new BatchReady(epoch, step, batch) : feed.Batch(epoch, step, batch));
        }
        long now = Stopwatch.GetTimestamp();
        if (schedule.ConsumerWaiting)
        {
            if (waitStarted < 0) waitStarted = now;
        }
        else if (waitStarted >= 0)
        {
            waitTicks += now - waitStarted;
            waitStarted = -1;
        }
        if (schedule.Active && schedule.EpochDone && !finishedSent)
        {
            finishedSent = true;
            if (corruptEpoch > 0)
                log.Warning("Epoch {0}: {1} corrupt records were skipped ({2} in total)", epoch, corruptEpoch, corruptTotal);
            if (feed is null) consumer.Tell(new EpochFinished(epoch, steps, corruptEpoch));
            else Self.Tell(new StartEpoch(epoch + 1)); // a feed runs on into the next epoch
            MetricsPublisher.Publish(Context.System, Metrics());
        }
    }

    LoaderMetrics Metrics()
    {
        long wait = waitTicks + (waitStarted >= 0 ? Stopwatch.GetTimestamp() - waitStarted : 0);
        double busy = (double)decodeTicks / Stopwatch.Frequency;
        return new LoaderMetrics(node, sampler.Rank, schedule.ReadyCount, schedule.Credits,
            busy > 0 ? samplesDecoded / busy * settings.Workers : 0, corruptTotal, MetricClock.NowMs(),
            epoch, schedule.InFlight, delivered, samplesDecoded, (double)wait / Stopwatch.Frequency);
    }

    void WorkerLoop(object? state)
    {
        var self = (IActorRef)state!;
        foreach (var job in jobs.GetConsumingEnumerable())
        {
            if (job.Generation != liveGeneration) continue; // superseded by a later StartEpoch: skip the work
            long start = Stopwatch.GetTimestamp();
            try
            {
                var corrupt = new List<CorruptRecord>();
                var batch = builder.Build(job.Epoch, job.Indices, corrupt);
                self.Tell(new BatchBuilt(job.Generation, job.Step, batch, corrupt, Stopwatch.GetTimestamp() - start));
            }
            catch (Exception e)
            {
                self.Tell(new BatchBuildFailed(job.Generation, job.Step, e));
            }
        }
    }
}
