using ActorFace.Model.Data;
using ActorFace.Model.Data.RecordIO;
using ActorFace.Tests;

namespace ActorFace.Model.Tests.Data;

/// <summary>ImageFolder -> pack -> read, on 5 real CelebA identities (linked from the shared folder at run time).</summary>
public class PackRoundTripTests
{
    static string LinkSubset(TempDir dir, int identities)
    {
        var src = SharedPaths.Data("celeba-subset-112");
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

    [Fact]
    public void PackedInsightFaceLayoutReadsBackSameBytesAndLabels()
    {
        using var dir = new TempDir();
        var folder = new ImageFolderDataset(LinkSubset(dir, 5));
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

    [Fact]
    public void ShuffledPlainLayoutKeepsEveryImageOnceWithItsLabel()
    {
        using var dir = new TempDir();
        var folder = new ImageFolderDataset(LinkSubset(dir, 5));
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

    [Fact]
    public void ConcurrentReadersSeeTheSameRecords()
    {
        using var dir = new TempDir();
        var folder = new ImageFolderDataset(LinkSubset(dir, 3));
        RecordIOPacker.Pack(folder.Root, dir["c/train"], new PackOptions());
        using var ds = new MXFaceDataset(dir["c/train"]);
        var sequential = Enumerable.Range(0, ds.Count).Select(i => ds.ReadRaw(i).Body.ToArray()).ToArray();
        var parallel = new byte[ds.Count][];
        Parallel.For(0, ds.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            n => parallel[n % ds.Count] = ds.ReadRaw(n % ds.Count).Body.ToArray());
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void ResizeOptionReencodesDecodableFaces()
    {
        using var dir = new TempDir();
        var folder = new ImageFolderDataset(LinkSubset(dir, 1));
        RecordIOPacker.Pack(folder.Root, dir["r/train"], new PackOptions(Resize: 112));
        using var ds = new MXFaceDataset(dir["r/train"]);
        Assert.Equal(folder.Count, ds.Count);
        var original = folder.Read(0).Rgb;
        var reencoded = ds.Read(0).Rgb;
        Assert.True(original.Zip(reencoded, (a, b) => Math.Abs(a - b)).Average() < 3.0); // one extra JPEG generation
        Assert.Throws<ArgumentException>(() => RecordIOPacker.Pack(folder.Root, dir["r2/train"], new PackOptions(Resize: 128)));
    }

    [Fact]
    public void VerifyReportsCorruptImage()
    {
        using var dir = new TempDir();
        var folder = new ImageFolderDataset(LinkSubset(dir, 2));
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
