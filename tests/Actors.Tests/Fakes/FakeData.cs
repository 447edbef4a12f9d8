using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Workers;
using ActorFace.Model.Collectives;
using Akka.Actor;
using static TorchSharp.torch;

namespace ActorFace.Actors.Tests.Fakes;

/// <summary>
/// Sample i is the vector (i mod 7, i mod 11, i mod 13, i mod 17) / 10 with label i mod C. Batches follow the
/// distributed-sampler rule of spec §4.10 (per-epoch permutation seeded by seed + epoch, padded cyclically, rank r
/// takes positions r, r + W, …; drop_last), so a global batch is the same set of samples for any world size.
/// </summary>
public sealed class FakeDataFactory(long count) : IRankDataFactory
{
    public long DatasetCount => count;

    public Props FeedProps(RankContext context) => Props.Create(() => new FakeFeed(context, count));
}

public sealed class FakeFeed : ReceiveActor
{
    private readonly RankContext c;
    private readonly long count;
    private long _next;
    private int _epoch = -1;
    private long[] _mine = [];

    public FakeFeed(RankContext context, long datasetCount)
    {
        c = context;
        count = datasetCount;
        _next = c.StartStep + 1;
        Receive<FeedCredits>(credits =>
        {
            for (var i = 0; i < credits.Credits; i++)
                Context.Parent.Tell(Make(_next++));
        });
    }

    private FeedBatch Make(long step)
    {
        var (epoch, index) = c.Plan.PositionAfter(step - 1);
        if (epoch != _epoch)
        {
            _epoch = epoch;
            var rng = new Random(c.Settings.Seed + epoch);
            var perm = Enumerable.Range(0, (int)count).Select(x => (long)x).ToArray();
            rng.Shuffle(perm);
            var total = (count + c.WorldSize - 1) / c.WorldSize * c.WorldSize;
            _mine = Enumerable.Range(0, (int)total).Where(p => p % c.WorldSize == c.Rank).Select(p => perm[p % count]).ToArray();
        }
        var b = c.Settings.BatchSize;
        var ids = _mine.Skip((int)(index * b)).Take(b).ToArray();
        var images = tensor(ids.SelectMany(i => new[] { i % 7 / 10.0, i % 11 / 10.0, i % 13 / 10.0, i % 17 / 10.0 }).ToArray()).reshape(b, 4);
        var labels = tensor(ids.Select(i => i % c.Settings.NumClasses).ToArray());
        return new FeedBatch(step, epoch, images, labels);
    }
}

public sealed class FakeCollectives : ICollectiveFactory
{
    public ICollective[] CreateLocal(int worldSize, TimeSpan timeout) => ThreadCollective.Create(worldSize, timeout);

    public ICollective ConnectTcp(int rank, IReadOnlyList<System.Net.IPEndPoint> endpoints, TimeSpan timeout) =>
        throw new NotSupportedException("the fake runs in one process");
}
