using ActorFace.Model.Data;
using ActorFace.Tests;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.RecordIO;
using ActorFace.Model.Tests.Data;

namespace ActorFace.Model.Tests.Formats.RecordIO;

/// <summary>
/// ImageFolder -> pack -> read, on generated faces (always) and on 5 real CelebA identities (linked from the reference
/// folder at run time, skipped where it is absent): the real JPEGs come from another encoder (OpenCV) than ours.
/// </summary>
public class PackRoundTripTests
{
    const string Synthetic = "synthetic";
    const string Celeba = "celeba";
    const string CelebaFolder = "data/celeba-subset-112";

    static string ImageFolder(TempDirectory dir, string source, int identities) =>
        source == Celeba ? LinkSubset(dir, identities) : WriteSynthetic(dir, identities);

    static string LinkSubset(TempDirectory dir, int identities)
    {
        var src = SharedPaths.Reference(CelebaFolder);
        var root = dir["images"];
        foreach (var id in Directory.GetDirectories(src).Order(StringComparer.Ordinal).Take(identities))
        {
            var target = Path.Combine(root, Path.GetFileName(id));
            Directory.CreateDirectory(target);
            foreach (var f in Directory.GetFiles(id))
                File.CreateSymbolicLink(Path.Combine(target, Path.GetFileName(f)), f);
        }
        return root;
    }

    /// <summary>3 to 6 smooth 112x112 JPEG "faces" per identity (smooth, so one more JPEG generation stays close).</summary>
    static string WriteSynthetic(TempDirectory dir, int identities)
    {
        var root = dir["images"];
        for (int id = 0; id < identities; id++)
        {
            var folder = Path.Combine(root, $"{7201 + id:D4}");
            Directory.CreateDirectory(folder);
            for (int k = 0; k < 3 + id % 4; k++)
                File.WriteAllBytes(Path.Combine(folder, $"{k:D6}.jpg"), ImageCodec.EncodeJpeg(SmoothFace(id * 10 + k), 112, 112));
        }
        return root;
    }

    static byte[] SmoothFace(int seed)
    {
        var rgb = new byte[112 * 112 * 3];
        for (int y = 0; y < 112; y++)
            for (int x = 0; x < 112; x++)
            {
                double r = Math.Sqrt((x - 56) * (x - 56) + (y - 60) * (y - 60));
                double face = r < 40 ? 60 * Math.Cos(r / 40 * Math.PI / 2) : 0;
                for (int c = 0; c < 3; c++)
                    rgb[(y * 112 + x) * 3 + c] = (byte)Math.Clamp(40 + x + y / 2 + face + (seed * 29 + c * 53) % 70, 0, 255);
            }
        return rgb;
    }

    [Theory]
    [InlineData(Synthetic)]
    [ReferenceInlineData(CelebaFolder, Celeba)]
    public void PackedInsightFaceLayoutReadsBackSameBytesAndLabels(string source)
    {
        using var dir = new TempDirectory("actorface-data-");
        var folder = new ImageFolderDataset(ImageFolder(dir, source, 5));
        var summary = RecordIOPacker.Pack(folder.Root, dir["out/train"], new PackOptions());
        Assert.Equal(5, summary.Classes);
        Assert.Equal("5,112,112", File.ReadAllText(dir["out/property"]));

        using var ds = new MXFaceDataset(dir["out"]);
        Assert.True(ds.HasHeaderRecord);
        Assert.Equal(folder.Count, ds.Count);
        Assert.Equal(5, ds.NumClasses);
        for (int i = 0; i < ds.Count; i++)
        {
            var raw = ds.ReadRaw(i);
            Assert.Equal(File.ReadAllBytes(folder.PathOf(i)), raw.Body.ToArray());
            Assert.Equal(folder.LabelOf(i), (int)raw.PrimaryLabel);
        }
        var a = ds.Read(3);
        var b = folder.Read(3);
        Assert.Equal(b.Rgb, a.Rgb);
        Assert.Equal(b.Label, a.Label);
        Assert.True(PackVerifier.Verify(dir["out/train"]).Ok);
    }

    [Theory]
    [InlineData(Synthetic)]
    [ReferenceInlineData(CelebaFolder, Celeba)]
    public void ShuffledPlainLayoutKeepsEveryImageOnceWithItsLabel(string source)
    {
        using var dir = new TempDirectory("actorface-data-");
        var folder = new ImageFolderDataset(ImageFolder(dir, source, 5));
        RecordIOPacker.Pack(folder.Root, dir["s/train"], new PackOptions(Shuffle: true, Seed: 3));
        using var ds = new MXFaceDataset(dir["s/train"]);
        Assert.False(ds.HasHeaderRecord);
        var expected = Enumerable.Range(0, folder.Count)
            .Select(i => (Convert.ToHexString(File.ReadAllBytes(folder.PathOf(i))), folder.LabelOf(i))).Order().ToList();
        var actual = Enumerable.Range(0, ds.Count)
            .Select(i => ds.ReadRaw(i)).Select(r => (Convert.ToHexString(r.Body.Span), (int)r.PrimaryLabel)).ToList();
        Assert.NotEqual(expected, actual); // shuffled...
        Assert.Equal(expected, actual.Order().ToList()); // ...but the same multiset
        Assert.True(PackVerifier.Verify(dir["s/train"]).Ok);
    }

    [Theory]
    [InlineData(Synthetic)]
    [ReferenceInlineData(CelebaFolder, Celeba)]
    public void ConcurrentReadersSeeTheSameRecords(string source)
    {
        using var dir = new TempDirectory("actorface-data-");
        var folder = new ImageFolderDataset(ImageFolder(dir, source, 3));
        RecordIOPacker.Pack(folder.Root, dir["c/train"], new PackOptions());
        using var ds = new MXFaceDataset(dir["c/train"]);
        var sequential = Enumerable.Range(0, ds.Count).Select(i => ds.ReadRaw(i).Body.ToArray()).ToArray();
        var parallel = new byte[ds.Count][];
        Parallel.For(0, ds.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            n => parallel[n % ds.Count] = ds.ReadRaw(n % ds.Count).Body.ToArray());
        Assert.Equal(sequential, parallel);
    }

    [Theory]
    [InlineData(Synthetic)]
    [ReferenceInlineData(CelebaFolder, Celeba)]
    public void ResizeOptionReencodesDecodableFaces(string source)
    {
        using var dir = new TempDirectory("actorface-data-");
        var folder = new ImageFolderDataset(ImageFolder(dir, source, 1));
        RecordIOPacker.Pack(folder.Root, dir["r/train"], new PackOptions(Resize: 112));
        using var ds = new MXFaceDataset(dir["r/train"]);
        Assert.Equal(folder.Count, ds.Count);
        var original = folder.Read(0).Rgb;
        var reencoded = ds.Read(0).Rgb;
        Assert.True(original.Zip(reencoded, (a, b) => Math.Abs(a - b)).Average() < 3.0); // one extra JPEG generation
        Assert.Throws<ArgumentException>(() => RecordIOPacker.Pack(folder.Root, dir["r2/train"], new PackOptions(Resize: 128)));
    }

    [Theory]
    [InlineData(Synthetic)]
    [ReferenceInlineData(CelebaFolder, Celeba)]
    public void VerifyReportsCorruptImage(string source)
    {
        using var dir = new TempDirectory("actorface-data-");
        var folder = new ImageFolderDataset(ImageFolder(dir, source, 2));
        RecordIOPacker.Pack(folder.Root, dir["v/train"], new PackOptions());
        var rec = File.ReadAllBytes(dir["v/train.rec"]);
        long off = long.Parse(File.ReadAllLines(dir["v/train.idx"])[2].Split('\t')[1]);
        for (int i = 8 + 24 + 300; i < 8 + 24 + 900; i++) rec[off + i] = 0; // wipe the middle of record 2's JPEG
        File.WriteAllBytes(dir["v/train.rec"], rec);
        var report = PackVerifier.Verify(dir["v/train"]);
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Contains("record 2"));
    }
}
