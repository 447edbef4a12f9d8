using ActorFace.Model.Data;
using MessagePack;

namespace ActorFace.Actors.Data;

// The DataLoaderActor protocol. Flow: the consumer (a GpuWorker) sends StartEpoch, then RequestBatches(n)
// whenever it wants n more batches (e.g. 6 at start, 1 after each batch consumed = a 6-deep prefetch); the loader
// answers each credit with one BatchReady in step order and ends the epoch with EpochFinished. The loader never
// has more batches decoded or decoding than the consumer's outstanding credits (capped by its prefetch setting).

/// <summary>(Re)position the loader at <paramref name="FirstStep"/> of <paramref name="Epoch"/>; batches of
/// an earlier StartEpoch still in flight are dropped. Outstanding credits carry over.</summary>
[MessagePackObject]
public sealed record StartEpoch([property: Key(0)] int Epoch, [property: Key(1)] int FirstStep = 0);

/// <summary>Grants <paramref name="Credits"/> more batches; the sender becomes the consumer.</summary>
[MessagePackObject]
public sealed record RequestBatches([property: Key(0)] int Credits);

/// <summary>
/// One batch, in step order. Holds tensors: in-process only, never serialised; the receiver owns and disposes
/// <see cref="Batch"/>.
/// </summary>
public sealed record BatchReady(int Epoch, int Step, Batch Batch);

/// <summary>All batches of the epoch were delivered (steps = batches per epoch for this rank).</summary>
[MessagePackObject]
public sealed record EpochFinished([property: Key(0)] int Epoch, [property: Key(1)] int Steps, [property: Key(2)] long CorruptSkipped);

/// <summary>Fail-fast policy hit a bad record (or a substitute could not be found); the loader stops.</summary>
[MessagePackObject]
public sealed record LoaderFailed([property: Key(0)] int Epoch, [property: Key(1)] int Step, [property: Key(2)] string Reason);

/// <summary>Ask for the loader's monitoring record, <see cref="ActorFace.Actors.Monitoring.LoaderMetrics"/>
/// (the same record it publishes to the monitor every few seconds and at each epoch end).</summary>
[MessagePackObject]
public sealed record GetLoaderMetrics
{
    public static readonly GetLoaderMetrics Instance = new();
}
