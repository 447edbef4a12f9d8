namespace ActorFace.Model.Data;

/// <summary>A record that could not be decoded and was replaced by the next readable one.</summary>
public sealed record CorruptRecord(int Index, string File, long? Record, string Message);

/// <summary>
/// Reads, augments (seeded flip) and collates (<see cref="BatchCollator"/>) one batch; applies the bad-record policy.
/// With <paramref name="skipBadRecords"/> (data.bad_records = skip) a corrupt sample is replaced by the next readable
/// index (deterministically), so every batch keeps its size — all ranks must contribute equal batches to the
/// all-gather; without it the first corrupt record fails the batch.
/// </summary>
public sealed class BatchBuilder(IFaceDataset dataset, long seed, bool skipBadRecords)
{
    const int MaxSubstituteTries = 64;

    public Batch Build(int epoch, int[] indices, List<CorruptRecord> corrupt)
    {
        var samples = new FaceSample[indices.Length];
        var flips = new bool[indices.Length];
        var used = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            (samples[i], used[i]) = ReadOrSubstitute(epoch, indices[i], corrupt);
            flips[i] = TrainAugment.Flip(seed, epoch, used[i]);
        }
        return BatchCollator.Collate(samples, flips, used);
    }

    (FaceSample, int) ReadOrSubstitute(int epoch, int index, List<CorruptRecord> corrupt)
    {
        int candidate = index;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return (dataset.Read(candidate, epoch), candidate);
            }
            catch (DataFormatException e) when (skipBadRecords && attempt < MaxSubstituteTries)
            {
                corrupt.Add(new CorruptRecord(candidate, e.File, e.Record, e.Message));
                candidate = (candidate + 1) % dataset.Count;
            }
        }
    }
}
