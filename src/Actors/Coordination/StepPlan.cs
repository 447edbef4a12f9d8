using MessagePack;

namespace ActorFace.Actors.Coordination;

/// <summary>
/// Step counts of one world size (spec §5.1/§5.5): the LR schedule is derived from num_image, the epoch length
/// from what the distributed sampler + drop_last loader really yields, floor(ceil(n / W) / B).
/// Global steps are 1-based; "step S done" means S iterations have run. Derived once per generation by the
/// coordinator and sent to the ranks inside StartGeneration.
/// </summary>
[MessagePackObject]
public sealed record StepPlan(
    [property: Key(0)] long DatasetCount,
    [property: Key(1)] int WorldSize,
    [property: Key(2)] int BatchSize,
    [property: Key(3)] int NumEpoch,
    [property: Key(4)] long NumImage,
    [property: Key(5)] int WarmupEpoch)
{
    [IgnoreMember] public long TotalBatchSize => (long)BatchSize * WorldSize;

    /// <summary>Iterations of one epoch on every rank.</summary>
    [IgnoreMember] public long StepsPerEpoch => (DatasetCount + WorldSize - 1) / WorldSize / BatchSize;

    /// <summary>Iterations the loader yields in num_epoch epochs.</summary>
    [IgnoreMember] public long TotalIterations => StepsPerEpoch * NumEpoch;

    /// <summary>arcface_torch's total_step (LR schedule length).</summary>
    [IgnoreMember] public long TotalStep => NumImage / TotalBatchSize * NumEpoch;

    [IgnoreMember] public long WarmupStep => NumImage / TotalBatchSize * WarmupEpoch;

    /// <summary>Epoch (0-based) that iteration <paramref name="globalStep"/> (1-based) belongs to.</summary>
    public int EpochOf(long globalStep) => (int)((globalStep - 1) / StepsPerEpoch);

    /// <summary>Where the loader resumes after <paramref name="stepsDone"/> iterations: (epoch, batch index in it).</summary>
    public (int Epoch, long BatchIndex) PositionAfter(long stepsDone) => ((int)(stepsDone / StepsPerEpoch), stepsDone % StepsPerEpoch);

    /// <summary>
    /// The step of this plan that corresponds to <paramref name="stepsDone"/> iterations of an older plan with another
    /// world or batch size: the same number of samples seen, rounded down to whole global batches.
    /// </summary>
    public long EquivalentStep(long stepsDone, long oldTotalBatchSize) => stepsDone * oldTotalBatchSize / TotalBatchSize;

    public void Validate()
    {
        if (StepsPerEpoch < 1)
            throw new InvalidOperationException(
                $"the dataset has {DatasetCount} images: too few for {WorldSize} rank(s) x batch_size {BatchSize} (one epoch would have no step)");
    }
}
