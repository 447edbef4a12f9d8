using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.Pickle;
namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// An InsightFace-format verification <c>.bin</c> of synthetic people, LFW-style: 10 folds, each half "same"
/// pairs then half "different" pairs. Use identities disjoint from training (<c>firstIdentity</c> at or after
/// the training identity count) so the score measures generalisation to unseen people.
/// </summary>
public static class SyntheticVerificationSet
{
    /// <summary>Image variants used here never collide with training sample indices of the same seed.</summary>
    const int VariantBase = 1 << 30;

    public static (List<byte[]> Images, List<bool> IsSame) Build(long seed, int firstIdentity, int numIdentities, int numPairs, int jpegQuality = 95)
    {
        if (numIdentities < 2) throw new ArgumentOutOfRangeException(nameof(numIdentities), numIdentities, "need >= 2 identities for different pairs");
        if (numPairs < 20 || numPairs % 20 != 0) throw new ArgumentOutOfRangeException(nameof(numPairs), numPairs, "must be a positive multiple of 20 (10 folds x same/different)");
        var ds = new SyntheticIdentityDataset(numIdentities, 1, seed, firstIdentity);
        var rng = DeterministicRng.For(seed, firstIdentity, numIdentities, numPairs, 0xB1B);
        var images = new List<byte[]>(2 * numPairs);
        var same = new List<bool>(numPairs);
        var rgb = new byte[FaceSample.ByteCount];
        int variant = VariantBase;
        int perFold = numPairs / 10;
        for (int fold = 0; fold < 10; fold++)
            for (int p = 0; p < perFold; p++)
            {
                bool isSame = p < perFold / 2;
                int a = firstIdentity + rng.NextInt(numIdentities);
                int b = a;
                if (!isSame)
                    while (b == a) b = firstIdentity + rng.NextInt(numIdentities);
                foreach (var id in (ReadOnlySpan<int>)[a, b])
                {
                    ds.RenderSample(id, variant++, 0, rgb);
                    images.Add(ImageCodec.EncodeJpeg(rgb, FaceSample.Size, FaceSample.Size, jpegQuality));
                }
                same.Add(isSame);
            }
        return (images, same);
    }

    public static void Write(string path, long seed, int firstIdentity, int numIdentities, int numPairs)
    {
        var (images, same) = Build(seed, firstIdentity, numIdentities, numPairs);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var f = File.Create(path);
        PickleWriter.WriteVerificationBin(f, images, same);
    }
}
