using System.Collections.Concurrent;

namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// A learnable synthetic face dataset: <c>numIdentities</c> people with <c>samplesPerIdentity</c> samples each.
/// Sample i belongs to class i / samplesPerIdentity and is a fresh augmentation of that person's face, seeded
/// by (seed, identity, i, epoch): deterministic, and different every epoch. <c>firstIdentity</c> shifts the
/// people drawn (class labels stay 0-based), so held-out sets use identities disjoint from training.
/// </summary>
public sealed class SyntheticIdentityDataset : IFaceDataset
{
    const int CacheLimit = 2048;
    readonly ConcurrentDictionary<int, byte[]> templates = new();

    public int Count { get; }
    public int NumClasses { get; }
    public int SamplesPerIdentity { get; }
    public long Seed { get; }
    public int FirstIdentity { get; }

    public SyntheticIdentityDataset(int numIdentities, int samplesPerIdentity, long seed = 0, int firstIdentity = 0)
    {
        if (numIdentities < 1) throw new ArgumentOutOfRangeException(nameof(numIdentities), numIdentities, "must be >= 1");
        if (samplesPerIdentity < 1) throw new ArgumentOutOfRangeException(nameof(samplesPerIdentity), samplesPerIdentity, "must be >= 1");
        if ((long)numIdentities * samplesPerIdentity > int.MaxValue) throw new ArgumentException("dataset too large for int indices");
        (NumClasses, SamplesPerIdentity, Seed, FirstIdentity) = (numIdentities, samplesPerIdentity, seed, firstIdentity);
        Count = numIdentities * samplesPerIdentity;
    }

    public FaceSample Read(int index) => Read(index, 0);

    public FaceSample Read(int index, int epoch)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset has {Count} samples");
        int label = index / SamplesPerIdentity;
        var rgb = new byte[FaceSample.ByteCount];
        RenderSample(FirstIdentity + label, index, epoch, rgb);
        return new FaceSample(rgb, label);
    }

    /// <summary>One augmented picture of person <paramref name="identity"/>, variant (<paramref name="variant"/>, <paramref name="epoch"/>).</summary>
    public void RenderSample(int identity, int variant, int epoch, Span<byte> rgb)
    {
        var rng = DeterministicRng.For(Seed, identity, variant, epoch, 0xA06);
        SampleAugmenter.Render(Template(identity), ref rng, rgb);
    }

    public byte[] Template(int identity)
    {
        if (templates.TryGetValue(identity, out var t)) return t;
        if (templates.Count >= CacheLimit) templates.Clear();
        return templates.GetOrAdd(identity, i => FaceRenderer.RenderTemplate(FaceIdentity.Create(Seed, i)));
    }

    public string Describe(int index) => $"synthetic identity {FirstIdentity + index / SamplesPerIdentity} sample {index}";
}
