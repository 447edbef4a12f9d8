namespace ActorFace.Model.Data;

/// <summary>
/// A random-access face dataset. Implementations decode inside <see cref="Read(int)"/> and must be safe to call
/// from several threads at once (the data loader's decode workers share one instance).
/// </summary>
public interface IFaceDataset
{
    int Count { get; }
    int NumClasses { get; }

    /// <summary>Sample <paramref name="index"/> as 112x112 RGB; bad input throws <see cref="DataFormatException"/>.</summary>
    FaceSample Read(int index);

    /// <summary>
    /// Epoch-aware read for generated data whose per-sample augmentation changes every epoch; stored datasets
    /// return the same bytes whatever the epoch.
    /// </summary>
    FaceSample Read(int index, int epoch) => Read(index);

    /// <summary>Human-readable location of a sample (file and record) for warnings.</summary>
    string Describe(int index) => $"sample {index}";
}
