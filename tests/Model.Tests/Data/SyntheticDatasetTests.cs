using ActorFace.Model.Data;
using ActorFace.Model.Data.Synthetic;
using Razorvine.Pickle;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Data;

public class SyntheticDatasetTests
{
    [Fact]
    public void SamplesAreDeterministicPerIndexAndEpoch()
    {
        var a = new SyntheticIdentityDataset(4, 3, seed: 9);
        var b = new SyntheticIdentityDataset(4, 3, seed: 9);
        Assert.Equal(a.Read(5, 2).Rgb, b.Read(5, 2).Rgb);
        Assert.Equal(1, a.Read(5, 2).Label);
        Assert.NotEqual(a.Read(5, 2).Rgb, a.Read(5, 3).Rgb);
        Assert.NotEqual(a.Read(5, 2).Rgb, a.Read(4, 2).Rgb);
        Assert.NotEqual(a.Read(5, 2).Rgb, new SyntheticIdentityDataset(4, 3, seed: 10).Read(5, 2).Rgb);
    }

    [Fact]
    public void ConstantSyntheticMatchesArcfaceTorch()
    {
        var ds = new ConstantSyntheticDataset();
        Assert.Equal(1_000_000, ds.Count);
        var s = ds.Read(17);
        Assert.Equal(1, s.Label);
        Assert.Equal(s.Rgb, ds.Read(999_999).Rgb);
        Assert.True(s.Rgb.Max() <= 254);
    }

    /// <summary>
    /// Cheap learnability check on raw pixels (4x4-pooled, per-image standardised): nearest class mean on fresh
    /// augmentations of training people, and 1-nearest-neighbour on people never used for the means.
    /// Chance is 1/8 for both; a learned embedding does far better, but raw pixels must already beat chance.
    /// </summary>
    [Fact]
    public void IdentitiesAreSeparableAboveChance()
    {
        const int k = 8, s = 6;
        var train = new SyntheticIdentityDataset(k, s, seed: 3);
        var means = new float[k][];
        for (int c = 0; c < k; c++)
        {
            means[c] = new float[Dim];
            for (int j = 0; j < s; j++) Add(means[c], Features(train.Read(c * s + j, 0).Rgb));
        }
        int ncm = Enumerable.Range(0, k * s).Count(i => Nearest(Features(train.Read(i, 1).Rgb), means) == i / s);

        var heldOut = new SyntheticIdentityDataset(k, s, seed: 3, firstIdentity: k);
        var gallery = Enumerable.Range(0, k).Select(c => Features(heldOut.Read(c * s, 0).Rgb)).ToArray();
        int nn = Enumerable.Range(0, k * s).Where(i => i % s != 0).Count(i => Nearest(Features(heldOut.Read(i, 1).Rgb), gallery) == i / s);

        Assert.True(ncm >= 0.35 * k * s, $"nearest-class-mean accuracy {ncm}/{k * s} (chance {s})");
        Assert.True(nn >= 0.3 * k * (s - 1), $"held-out 1-NN accuracy {nn}/{k * (s - 1)} (chance {s - 1})");
    }

    [Fact]
    public void VerificationBinIsAPickleOfJpegsAndBools()
    {
        using var dir = new TempDirectory("actorface-data-");
        var path = dir["synth.bin"];
        SyntheticVerificationSet.Write(path, seed: 1, firstIdentity: 100, numIdentities: 6, numPairs: 20);
        using var f = File.OpenRead(path);
        var tuple = (object[])new Unpickler().load(f);
        var bins = ((System.Collections.ArrayList)tuple[0]).Cast<byte[]>().ToList();
        var same = ((System.Collections.ArrayList)tuple[1]).Cast<bool>().ToList();
        Assert.Equal(40, bins.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 2 == 0), same); // 10 folds of 2: same, different
        Assert.Equal(FaceSample.ByteCount, ImageCodec.DecodeRgb112(bins[0], path, 0).Length);
        Assert.Equal(0xFF, bins[0][0]);
        Assert.Equal(0xD8, bins[0][1]);
    }

    const int Dim = 28 * 28 * 3;

    static float[] Features(byte[] rgb)
    {
        var f = new float[Dim];
        for (int y = 0; y < 112; y++)
            for (int x = 0; x < 112; x++)
                for (int c = 0; c < 3; c++)
                    f[((y / 4) * 28 + x / 4) * 3 + c] += rgb[(y * 112 + x) * 3 + c];
        float mean = f.Average();
        float sd = MathF.Sqrt(f.Select(v => (v - mean) * (v - mean)).Average());
        for (int i = 0; i < f.Length; i++) f[i] = (f[i] - mean) / sd;
        return f;
    }

    static void Add(float[] acc, float[] f)
    {
        for (int i = 0; i < acc.Length; i++) acc[i] += f[i];
    }

    static int Nearest(float[] f, float[][] refs) =>
        Enumerable.Range(0, refs.Length).MaxBy(c =>
        {
            double d = 0, n = 0;
            for (int i = 0; i < f.Length; i++) { d += f[i] * refs[c][i]; n += refs[c][i] * refs[c][i]; }
            return d / Math.Sqrt(n);
        });
}
