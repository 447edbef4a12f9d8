using Akka.Actor;
using Akka.TestKit.Xunit2;
using ActorFace.Actors.Data;
using ActorFace.Actors.Monitoring;
using ActorFace.Model.Data;

namespace ActorFace.Actors.Tests.Data;

public class DataLoaderActorTests : TestKit
{
    // generous: the first batch loads libtorch, and test machines are shared
    public DataLoaderActorTests() : base("akka.test.single-expect-default = 60s") { }

    /// <summary>In-memory dataset: pixel value = index % 251, label = index % classes; some indices corrupt.</summary>
    sealed class FakeDataset(int count, int classes, params int[] corrupt) : IFaceDataset
    {
        int reads;
        public int Reads => Volatile.Read(ref reads);
        public int Count => count;
        public int NumClasses => classes;

        public FaceSample Read(int index)
        {
            Interlocked.Increment(ref reads);
            if (corrupt.Contains(index)) throw new DataFormatException("fake.rec", index, "corrupt on purpose");
            var rgb = new byte[FaceSample.ByteCount];
            Array.Fill(rgb, (byte)(index % 251));
            return new FaceSample(rgb, index % classes);
        }
    }

    IActorRef Loader(IFaceDataset ds, int batch, int prefetch = 6, BadRecordPolicy policy = BadRecordPolicy.Skip, int world = 1, int rank = 0) =>
        Sys.ActorOf(DataLoaderActor.Props(ds, new DistributedSampler(ds.Count, world, rank, seed: 5),
            new DataLoaderSettings(batch, Workers: 2, Prefetch: prefetch, Seed: 5, BadRecords: policy)));

    [Fact]
    public void AsARankFeedItNumbersGlobalStepsFromTheStartStepOnIntoTheNextEpoch()
    {
        var ds = new FakeDataset(64, 4);
        var settings = ActorFace.Actors.Settings.TrainingSettings.Default with { BatchSize = 4, Seed = 5 };
        var plan = new ActorFace.Actors.Coordination.StepPlan(64, 1, 4, 2, 64, 0); // 16 steps per epoch
        var context = new ActorFace.Actors.Workers.RankContext(settings, 1, 0, 1, 0, null!, plan, StartStep: 14);
        var feed = ChildActorOf(DataLoaderActor.FeedProps(context, ds, new DataLoaderSettings(4, Workers: 2, Prefetch: 6, Seed: 5, BadRecords: BadRecordPolicy.Skip)));
        feed.Tell(new ActorFace.Actors.Protocol.FeedCredits(4));
        var sampler = new DistributedSampler(64, 1, 0, 5, shuffle: true, dropLast: false);
        foreach (var (step, epoch, index) in new[] { (15L, 0, 14), (16L, 0, 15), (17L, 1, 0), (18L, 1, 1) })
        {
            var batch = ExpectMsg<ActorFace.Actors.Protocol.FeedBatch>();
            using (batch.Images)
            using (batch.Labels)
            {
                Assert.Equal((step, epoch), (batch.Step, batch.Epoch));
                sampler.SetEpoch(epoch);
                Assert.Equal(sampler.BatchIndices(index, 4).Select(i => (long)(i % 4)), batch.Labels.data<long>().ToArray());
            }
        }
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // never more than the credits
    }

    [Fact]
    public void DeliversExactlyTheCreditsInOrderAndNeverRunsAhead()
    {
        var ds = new FakeDataset(64, 4);
        var loader = Loader(ds, batch: 4);
        loader.Tell(new StartEpoch(0));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, ds.Reads); // no credits, no work

        loader.Tell(new RequestBatches(2));
        var a = ExpectMsg<BatchReady>();
        var b = ExpectMsg<BatchReady>();
        Assert.Equal((0, 1), (a.Step, b.Step));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(8, ds.Reads); // exactly two batches decoded

        var sampler = new DistributedSampler(64, 1, 0, 5);
        Assert.Equal(sampler.BatchIndices(1, 4), b.Batch.SampleIndices);
        Assert.Equal(sampler.BatchIndices(1, 4).Select(i => (long)(i % 4)), b.Batch.Labels.data<long>().ToArray());
        Assert.Equal([4L, 3, 112, 112], b.Batch.Images.shape);
        a.Batch.Dispose();
        b.Batch.Dispose();
    }

    [Fact]
    public void FinishesTheEpochAndResumesAtAStep()
    {
        var ds = new FakeDataset(20, 2);
        var loader = Loader(ds, batch: 4);
        loader.Tell(new StartEpoch(3, FirstStep: 2));
        loader.Tell(new RequestBatches(10));
        var steps = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            var m = ExpectMsg<BatchReady>();
            steps.Add(m.Step);
            Assert.Equal(3, m.Epoch);
            m.Batch.Dispose();
        }
        Assert.Equal([2, 3, 4], steps);
        Assert.Equal(new EpochFinished(3, 5, 0), ExpectMsg<EpochFinished>());

        loader.Tell(new StartEpoch(4)); // 7 credits remain
        for (int i = 0; i < 5; i++) ExpectMsg<BatchReady>().Batch.Dispose();
        ExpectMsg<EpochFinished>();
        loader.Tell(GetLoaderMetrics.Instance);
        var metrics = ExpectMsg<LoaderMetrics>();
        Assert.Equal(8, metrics.BatchesDelivered);
        Assert.Equal(2, metrics.Credits);
        Assert.Equal(0, metrics.CorruptSkipped);
        Assert.Equal(4, metrics.Epoch);
    }

    [Fact]
    public void SkipPolicySubstitutesAndCountsCorruptRecords()
    {
        var ds = new FakeDataset(16, 2, corrupt: [3, 9]);
        var loader = Loader(ds, batch: 16);
        loader.Tell(new StartEpoch(0));
        loader.Tell(new RequestBatches(1));
        var batch = ExpectMsg<BatchReady>().Batch;
        Assert.Equal(16, batch.Size);
        Assert.DoesNotContain(3, batch.SampleIndices);
        Assert.DoesNotContain(9, batch.SampleIndices);
        Assert.Contains(4, batch.SampleIndices.GroupBy(i => i).Where(g => g.Count() == 2).Select(g => g.Key));
        batch.Dispose();
        Assert.Equal(2, ExpectMsg<EpochFinished>().CorruptSkipped);
    }

    [Fact]
    public void FailPolicyReportsTheRecordAndStops()
    {
        var ds = new FakeDataset(16, 2, corrupt: [3]);
        var loader = Loader(ds, batch: 8, policy: BadRecordPolicy.Fail);
        Watch(loader);
        loader.Tell(new StartEpoch(0));
        loader.Tell(new RequestBatches(2));
        var failed = FishForMessage<LoaderFailed>(_ => true);
        Assert.Contains("fake.rec: record 3", failed.Reason);
        FishForMessage<Terminated>(_ => true);
    }

    [Fact]
    public void RanksOfOneEpochGetDisjointSamples()
    {
        var ds = new FakeDataset(32, 4);
        var seen = new List<int>();
        for (int rank = 0; rank < 2; rank++)
        {
            var loader = Loader(ds, batch: 8, world: 2, rank: rank);
            loader.Tell(new StartEpoch(1));
            loader.Tell(new RequestBatches(2));
            for (int i = 0; i < 2; i++)
            {
                var m = ExpectMsg<BatchReady>();
                seen.AddRange(m.Batch.SampleIndices);
                m.Batch.Dispose();
            }
            ExpectMsg<EpochFinished>();
        }
        Assert.Equal(Enumerable.Range(0, 32), seen.Order());
    }

    [Fact]
    public void SettingsComeFromTheTrainingSettings()
    {
        var settings = ActorFace.Actors.Settings.TrainingSettings.Default with
        {
            BatchSize = 64, NumWorkers = 3, Seed = 7, DataPrefetch = 2, DataBadRecords = "fail",
        };
        Assert.Equal(new DataLoaderSettings(64, 3, 2, 7, BadRecordPolicy.Fail), DataLoaderSettings.From(settings));
        Assert.Equal(BadRecordPolicy.Skip, DataLoaderSettings.From(ActorFace.Actors.Settings.TrainingSettings.Default).BadRecords);
    }
}
