using ActorFace.Actors.Coordination;
using ActorFace.Actors.Protocol;
using ActorFace.Actors.Workers;
using Akka.Actor;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Actors.Tests.Fakes;

/// <summary>
/// Sample i is the vector (i mod 7, i mod 11, i mod 13, i mod 17) / 10 with label i mod C. Batches follow the
/// distributed-sampler rule of spec §4.10 (per-epoch permutation seeded by seed + epoch, padded cyclically, rank r
/// takes positions r, r + W, …; drop_last), so a global batch is the same set of samples for any world size.
/// </summary>
public sealed class FakeDataFactory(long count, Func<long[], RankContext, (Tensor Images, Tensor Labels)>? make = null, bool shuffle = true) : IRankDataFactory
{
    public long DatasetCount => count;

    public Props FeedProps(RankContext context) => Props.Create(() => new FakeFeed(context, count, make ?? Vectors, shuffle));

    /// <summary>Sample i = (i mod 7, i mod 11, i mod 13, i mod 17) / 10, label i mod C.</summary>
    public static (Tensor, Tensor) Vectors(long[] ids, RankContext c) =>
        (tensor(ids.SelectMany(i => new[] { i % 7 / 10.0, i % 11 / 10.0, i % 13 / 10.0, i % 17 / 10.0 }).ToArray()).reshape(ids.Length, 4),
         tensor(ids.Select(i => i % c.Settings.NumClasses).ToArray()));

    /// <summary>
    /// Samples 2k and 2k+1 are the same N(0, 1) face-sized image (seeded by k) with label k mod C. Without shuffling,
    /// 2 ranks of batch B then see the same images as each other, in the same proportions as 1 rank of batch 2B, so
    /// per-rank BatchNorm statistics agree and the two runs must follow the same loss curve.
    /// </summary>
    public static (Tensor, Tensor) PairedImages(long[] ids, RankContext c)
    {
        var images = stack(ids.Select(i => randn([3, 112, 112], generator: new TorchSharp.torch.Generator((ulong)(1000 + i / 2)))).ToArray());
        return (images, tensor(ids.Select(i => i / 2 % c.Settings.NumClasses).ToArray()));
    }
}

public sealed class FakeFeed : ReceiveActor
{
    private readonly RankContext c;
    private readonly long count;
    private readonly Func<long[], RankContext, (Tensor Images, Tensor Labels)> make;
    private long _next;
    private int _epoch = -1;
    private long[] _mine = [];

    private readonly bool shuffle;

    public FakeFeed(RankContext context, long datasetCount, Func<long[], RankContext, (Tensor, Tensor)> maker, bool shuffled = true)
    {
        shuffle = shuffled;
        c = context;
        count = datasetCount;
        make = maker;
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
            if (shuffle) rng.Shuffle(perm);
            var total = (count + c.WorldSize - 1) / c.WorldSize * c.WorldSize;
            _mine = Enumerable.Range(0, (int)total).Where(p => p % c.WorldSize == c.Rank).Select(p => perm[p % count]).ToArray();
        }
        var b = c.Settings.BatchSize;
        var ids = _mine.Skip((int)(index * b)).Take(b).ToArray();
        var (images, labels) = make(ids, c);
        return new FeedBatch(step, epoch, images, labels);
    }
}

public sealed class FakeCollectives : ICollectiveFactory
{
    public ICollective[] CreateLocal(int worldSize, TimeSpan timeout) => ThreadCollective.Create(worldSize, timeout);

    public ICollective ConnectTcp(int rank, IReadOnlyList<System.Net.IPEndPoint> endpoints, TimeSpan timeout, string session) =>
        throw new NotSupportedException("the fake runs in one process");
}
