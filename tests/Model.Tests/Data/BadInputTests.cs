using ActorFace.Model.Data;
using ActorFace.Model.Formats.RecordIO;

namespace ActorFace.Model.Tests.Data;

/// <summary>Every bad input must fail with a message naming the file and record, never hang or mislabel.</summary>
public class BadInputTests
{
    static void WritePack(string prefix, params (long Key, float Label, byte[] Body)[] records)
    {
        using var w = RecordIOWriter.CreatePrefix(prefix);
        foreach (var (key, label, body) in records)
            w.Write(key, ImageRecord.Pack(new IRHeader(0, label, (ulong)key, 0), [], body));
    }

    [Fact]
    public void WrongMagicNamesFileAndRecord()
    {
        using var dir = new TempDirectory("actorface-data-");
        var p = dir["bad"];
        WritePack(p, (0, 0, TestImages.Jpeg()), (1, 1, TestImages.Jpeg()));
        var bytes = File.ReadAllBytes(p + ".rec");
        long second = long.Parse(File.ReadAllLines(p + ".idx")[1].Split('\t')[1]);
        bytes[second] ^= 0xFF;
        File.WriteAllBytes(p + ".rec", bytes);
        using var ds = new MXFaceDataset(p, 2);
        var e = Assert.Throws<DataFormatException>(() => ds.Read(1));
        Assert.Contains("bad.rec", e.Message);
        Assert.Contains("record 1", e.Message);
        Assert.Contains("magic", e.Message);
        Assert.Equal(0, ds.Read(0).Label); // the intact record still reads
    }

    [Fact]
    public void TruncatedRecordIsReported()
    {
        using var dir = new TempDirectory("actorface-data-");
        var p = dir["trunc"];
        WritePack(p, (0, 0, TestImages.Jpeg()), (1, 0, TestImages.Jpeg()));
        var bytes = File.ReadAllBytes(p + ".rec");
        File.WriteAllBytes(p + ".rec", bytes[..(bytes.Length - 100)]);
        using var ds = new MXFaceDataset(p, 1);
        var e = Assert.Throws<DataFormatException>(() => ds.Read(1));
        Assert.Contains("record 1", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void IndexOffsetPastEndIsRejectedAtOpen()
    {
        using var dir = new TempDirectory("actorface-data-");
        var p = dir["idx"];
        WritePack(p, (0, 0, TestImages.Jpeg()));
        File.AppendAllText(p + ".idx", "1\t99999999\n");
        var e = Assert.Throws<DataFormatException>(() => new MXFaceDataset(p, 1));
        Assert.Contains("idx.idx", e.Message);
        Assert.Contains("record 1", e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void UndecodableImageNamesRecord()
    {
        using var dir = new TempDirectory("actorface-data-");
        var p = dir["jpeg"];
        var broken = TestImages.Jpeg()[..200];
        WritePack(p, (0, 0, TestImages.Jpeg()), (1, 0, broken), (2, 0, "not an image at all"u8.ToArray()));
        using var ds = new MXFaceDataset(p, 1);
        Assert.Contains("record 1", Assert.Throws<DataFormatException>(() => ds.Read(1)).Message);
        var e = Assert.Throws<DataFormatException>(() => ds.Read(2));
        Assert.Contains("record 2", e.Message);
        Assert.Contains("undecodable", e.Message);
    }

    [Theory]
    [InlineData(5f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void LabelOutsideClassRangeIsRejected(float label)
    {
        using var dir = new TempDirectory("actorface-data-");
        var p = dir["label"];
        WritePack(p, (0, 0, TestImages.Jpeg()), (1, label, TestImages.Jpeg()));
        using var ds = new MXFaceDataset(p, 5);
        var e = Assert.Throws<DataFormatException>(() => ds.Read(1));
        Assert.Contains("record 1", e.Message);
        Assert.Contains("outside [0, 5)", e.Message);
    }

    [Fact]
    public void ContinuationFlagOutOfSequenceIsReported()
    {
        using var dir = new TempDirectory("actorface-data-");
        var rec = dir["cf.rec"];
        // a lone "middle part" (cflag 2) can never start a record
        File.WriteAllBytes(rec, [0x0a, 0x23, 0xd7, 0xce, 0x04, 0x00, 0x00, 0x40, 1, 2, 3, 4]);
        using var reader = new RecordIOReader(rec, null);
        Assert.Contains("out of sequence", Assert.Throws<DataFormatException>(() => reader.Scan().ToList()).Message);
    }

    [Fact]
    public void MissingPackFilesAreReported()
    {
        using var dir = new TempDirectory("actorface-data-");
        Assert.Throws<FileNotFoundException>(() => RecordIOReader.OpenPrefix(dir["nothing"]));
        Assert.Throws<FileNotFoundException>(() => FaceDatasets.Open(dir["nothing"]));
    }

    [Fact]
    public void ImageFolderProblemsAreNamed()
    {
        using var dir = new TempDirectory("actorface-data-");
        Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderDataset(dir["missing"]));
        Assert.Contains("no class sub-directories", Assert.Throws<DataFormatException>(() => new ImageFolderDataset(dir.Path)).Message);

        Directory.CreateDirectory(dir["a"]);
        Directory.CreateDirectory(dir["b"]);
        File.WriteAllBytes(dir["a/1.jpg"], TestImages.Jpeg());
        File.WriteAllText(dir["b/readme.txt"], "not an image");
        var e = Assert.Throws<DataFormatException>(() => new ImageFolderDataset(dir.Path));
        Assert.Contains("'b'", e.Message);

        File.WriteAllText(dir["b/fake.jpg"], "text pretending to be a jpeg");
        var ds = new ImageFolderDataset(dir.Path);
        Assert.Equal(1, ds.SkippedFiles);
        Assert.Equal(2, ds.Count);
        var bad = Assert.Throws<DataFormatException>(() => ds.Read(1));
        Assert.Contains("fake.jpg", bad.Message);
        Assert.Equal(0, ds.Read(0).Label);
    }
}
