namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// arcface_torch's <c>synthetic</c> source (spec §4.8): one fixed random image (values 0..254) for every index,
/// label 1, one million samples. For speed tests only; nothing can be learned from it.
/// </summary>
public sealed class ConstantSyntheticDataset : IFaceDataset
{
    readonly byte[] image;

    public int Count { get; }
    public int NumClasses { get; }

    public ConstantSyntheticDataset(int numClasses = 2, int count = 1_000_000, long seed = 0)
    {
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "label 1 needs at least 2 classes");
        (NumClasses, Count) = (numClasses, count);
        var rng = DeterministicRng.For(seed, 0x5E7);
        image = new byte[FaceSample.ByteCount];
        for (int i = 0; i < image.Length; i++) image[i] = (byte)rng.NextInt(255);
    }

    public FaceSample Read(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset has {Count} samples");
        return new FaceSample((byte[])image.Clone(), 1);
    }
}
