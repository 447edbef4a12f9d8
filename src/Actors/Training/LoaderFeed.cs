using ActorFace.Actors.Data;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Workers;
using ActorFace.Model.Data;
using Akka.Actor;

namespace ActorFace.Actors.Training;

/// <summary>
/// A rank's data feed: its DataLoaderActor (distributed sampler, decoding threads, credits), positioned at the
/// (epoch, batch) that follows the generation's start step, with batches renumbered as global steps.
/// </summary>
public sealed class LoaderFeed : ReceiveActor
{
    private readonly RankContext _context;
    private IActorRef _loader = ActorRefs.Nobody;

    public LoaderFeed(RankContext context, IFaceDataset dataset, DataLoaderSettings settings)
    {
        _context = context;
        var sampler = new DistributedSampler(dataset.Count, context.WorldSize, context.Rank, context.Settings.Seed, shuffle: true, dropLast: false);
        _loader = Context.ActorOf(DataLoaderActor.Props(dataset, sampler, settings), "loader");

        Receive<FeedCredits>(m => _loader.Tell(new RequestBatches(m.Credits)));
        Receive<BatchReady>(b => Context.Parent.Tell(
            new FeedBatch(b.Epoch * _context.Plan.StepsPerEpoch + b.Step + 1, b.Epoch, b.Batch.Images, b.Batch.Labels)));
        Receive<EpochFinished>(e => _loader.Tell(new StartEpoch(e.Epoch + 1)));
        Receive<LoaderFailed>(f => Context.Parent.Tell(new FeedFailed($"epoch {f.Epoch} step {f.Step}: {f.Reason}")));
    }

    protected override void PreStart()
    {
        var (epoch, batch) = _context.Plan.PositionAfter(_context.StartStep);
        _loader.Tell(new StartEpoch(epoch, checked((int)batch)));
    }

    public static Props Props(RankContext context, IFaceDataset dataset, DataLoaderSettings settings) =>
        Akka.Actor.Props.Create(() => new LoaderFeed(context, dataset, settings));
}

/// <summary>The node's dataset (opened once, shared by its ranks) and a LoaderFeed per rank.</summary>
public sealed class LoaderDataFactory(IFaceDataset dataset, DataLoaderSettings settings) : IRankDataFactory
{
    public long DatasetCount => dataset.Count;

    public Props FeedProps(RankContext context) => LoaderFeed.Props(context, dataset, settings);
}
