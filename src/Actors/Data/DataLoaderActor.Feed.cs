using ActorFace.Actors.Protocol;
using ActorFace.Actors.Workers;
using ActorFace.Model.Data;
using Akka.Actor;

namespace ActorFace.Actors.Data;

/// <summary>
/// A <see cref="DataLoaderActor"/> as a rank's data feed (the rank's GpuWorker is its parent and consumer): its share
/// of the dataset, positioned at the (epoch, batch) that follows the generation's start step, answering
/// <see cref="FeedCredits"/> with <see cref="FeedBatch"/> numbered as global steps, and going on into the next epoch
/// by itself.
/// </summary>
public sealed partial class DataLoaderActor
{
    /// <summary>Where a feed starts, and how an (epoch, batch) becomes a global step.</summary>
    public sealed record RankFeed(long StepsPerEpoch, int FirstEpoch, int FirstBatch)
    {
        public FeedBatch Batch(int epoch, int step, Batch batch) =>
            new(epoch * StepsPerEpoch + step + 1, epoch, batch.Images, batch.Labels);
    }

    readonly RankFeed? feed;

    public static Props FeedProps(RankContext context, IFaceDataset dataset, DataLoaderSettings settings)
    {
        var sampler = new DistributedSampler(dataset.Count, context.WorldSize, context.Rank, context.Settings.Seed, shuffle: true, dropLast: false);
        var (epoch, batch) = context.Plan.PositionAfter(context.StartStep);
        var feed = new RankFeed(context.Plan.StepsPerEpoch, epoch, checked((int)batch));
        return Akka.Actor.Props.Create(() => new DataLoaderActor(dataset, sampler, settings, feed));
    }

    void ReceiveFeed() =>
        Receive<FeedCredits>(m =>
        {
            schedule.Grant(m.Credits);
            Pump();
        });

    void StartFeed()
    {
        if (feed is null) return;
        consumer = Context.Parent;
        Self.Tell(new StartEpoch(feed.FirstEpoch, feed.FirstBatch));
    }
}

/// <summary>The node's dataset (opened once, shared by its ranks) and a DataLoaderActor feed per rank.</summary>
public sealed class LoaderDataFactory(IFaceDataset dataset, DataLoaderSettings settings) : IRankDataFactory
{
    public long DatasetCount => dataset.Count;

    public Props FeedProps(RankContext context) => DataLoaderActor.FeedProps(context, dataset, settings);
}
