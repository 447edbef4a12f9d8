namespace ActorFace.Actors.Coordination;

/// <summary>
/// Step counts of one world size (spec §5.1/§5.5): the LR schedule is derived from num_image, the epoch length
/// from what the distributed sampler + drop_last loader really yields, floor(ceil(n / W) / B).
/// Global steps are 1-based; "step S done" means S iterations have run.
/// </summary>
public sealed record StepPlan(long DatasetCount, int WorldSize, int BatchSize, int NumEpoch, long NumImage, int WarmupEpoch)
{
    public long TotalBatchSize => (long)BatchSize * WorldSize;

    /// <summary>Iterations of one epoch on every rank.</summary>
    public long StepsPerEpoch => (DatasetCount + WorldSize - 1) / WorldSize / BatchSize;

    /// <summary>Iterations the loader yields in num_epoch epochs.</summary>
    public long TotalIterations => StepsPerEpoch * NumEpoch;

    /// <summary>arcface_torch's total_step (LR schedule length).</summary>
    public long TotalStep => NumImage / TotalBatchSize * NumEpoch;

    public long WarmupStep => NumImage / TotalBatchSize * WarmupEpoch;

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
