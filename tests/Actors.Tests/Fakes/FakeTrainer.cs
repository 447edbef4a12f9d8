using System.Collections.Concurrent;
using System.Globalization;
using ActorFace.Actors.Workers;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Actors.Tests.Fakes;

/// <summary>What a fake run leaves behind: rank 0's loss per step, the final replica and the full class vector.</summary>
public sealed class FakeRunLog
{
    public ConcurrentDictionary<long, double> Losses { get; } = new();
    public ConcurrentDictionary<int, double[]> FinalShards { get; } = new();
    public double[]? FinalWeights { get; set; }
    public int TrainersCreated;

    public double[] AllClasses() => FinalShards.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value).ToArray();
}

/// <summary>
/// A stand-in for RankTrainer with the same shape of state: a replicated vector w (the "backbone"), a class-sharded
/// vector (the "centres"), a schedule; every step all-reduces the global batch mean so that ranks stay in lock-step and
/// the result depends on the whole global batch, exactly like data-parallel SGD.
/// </summary>
public sealed class FakeTrainerFactory(FakeRunLog log) : IRankTrainerFactory
{
    /// <summary>Throw once in this (generation, rank, step).</summary>
    public (int Generation, int Rank, long Step)? FailAt { get; init; }

    /// <summary>Block in this (generation, rank, step), outside any collective, until <see cref="Release"/> is set:
    /// a hung rank that no abort reaches.</summary>
    public (int Generation, int Rank, long Step)? HangAt { get; init; }

    public ManualResetEventSlim Release { get; } = new();

    public RankShard CreateShard(RankContext c, IReadOnlyList<string>? oldShardDirectories)
    {
        var (start, count) = Layout(c.Settings.NumClasses, c.WorldSize, c.Rank);
        var values = new double[count];
        if (oldShardDirectories is not null)
        {
            var all = oldShardDirectories.SelectMany(d => File.ReadAllText(Path.Combine(d, "shard.txt"))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))).ToArray();
            Array.Copy(all, start, values, 0, count);
        }
        var shard = new FakeShard(c.Rank, start, values, log);
        return new RankShard(shard, () => CreateTrainer(c, shard));
    }

    private FakeTrainer CreateTrainer(RankContext c, FakeShard shard)
    {
        Interlocked.Increment(ref log.TrainersCreated);
        return new FakeTrainer(c, shard, log, FailAt, HangAt, Release);
    }

    public static (int Start, int Count) Layout(int classes, int world, int rank)
    {
        var count = classes / world + (rank < classes % world ? 1 : 0);
        var start = classes / world * rank + Math.Min(rank, classes % world);
        return (start, count);
    }
}

public sealed class FakeShard(int rank, int start, double[] values, FakeRunLog log) : IClassShard
{
    public int Start { get; } = start;
    public double[] Values { get; } = values;

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "shard.txt"), string.Join(' ', Values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    public void Dispose() => log.FinalShards[rank] = (double[])Values.Clone();
}

public sealed class FakeTrainer : IRankTrainer
{
    private readonly RankContext _c;
    private readonly FakeShard _shard;
    private readonly FakeRunLog _log;
    private readonly (int Generation, int Rank, long Step)? _failAt;
    private readonly (int Generation, int Rank, long Step)? _hangAt;
    private readonly ManualResetEventSlim? _release;
    private readonly Tensor _w;

    public FakeTrainer(RankContext c, FakeShard shard, FakeRunLog log, (int, int, long)? failAt,
        (int, int, long)? hangAt = null, ManualResetEventSlim? release = null)
    {
        _hangAt = hangAt;
        _release = release;
        _c = c;
        _shard = shard;
        _log = log;
        _failAt = failAt;
        _w = c.Rank == 0 ? tensor(new[] { 0.5, -0.25, 1.0, 2.0 }) : zeros(4, dtype: float64);
        c.Collective.Broadcast(_w); // like DDP: rank 0's initial replica everywhere
    }

    public nn.Module<Tensor, Tensor> Backbone => throw new NotSupportedException();

    public RankStepResult Step(long globalStep, Tensor images, Tensor labels)
    {
        if (_failAt is { } f && f.Generation == _c.Generation && f.Rank == _c.Rank && f.Step == globalStep)
            throw new InvalidOperationException($"injected failure at step {globalStep}");
        if (_hangAt is { } h && h.Generation == _c.Generation && h.Rank == _c.Rank && h.Step == globalStep)
            _release!.Wait();
        using var scope = NewDisposeScope();
        var g = images.sum(new long[] { 0 });
        _c.Collective.AllReduce(g);
        g.div_(_c.Settings.BatchSize * _c.WorldSize);
        var lr = Lr(globalStep);
        _w.sub_((_w - g) * lr);
        var loss = (_w - g).pow(2).sum().item<double>();
        var wsum = _w.sum().item<double>();
        for (var j = 0; j < _shard.Values.Length; j++)
            _shard.Values[j] = _shard.Values[j] * 0.9 + wsum * (_shard.Start + j + 1) * 0.01;
        if (_c.Rank == 0) _log.Losses[globalStep] = loss;
        return new RankStepResult(loss, Lr(globalStep + 1));
    }

    private double Lr(long step) => _c.Settings.Lr * Math.Max(0, 1 - (step - 1) / (double)Math.Max(1, _c.Plan.TotalStep));

    public void SaveReplica(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "replica.txt"), string.Join(' ', _w.data<double>().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    public void LoadReplica(string directory, long stepsDone)
    {
        var values = File.ReadAllText(Path.Combine(directory, "replica.txt")).Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        _w.copy_(tensor(values));
    }

    public void SaveBackbone(string path) => File.WriteAllText(path, "fake backbone " + string.Join(' ', _w.data<double>()));

    public void Dispose()
    {
        if (_c.Rank == 0) _log.FinalWeights = _w.data<double>().ToArray();
        _w.Dispose();
    }
}
