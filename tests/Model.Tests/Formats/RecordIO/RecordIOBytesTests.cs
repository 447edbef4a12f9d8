using ActorFace.Model.Formats.RecordIO;
using ActorFace.Model.Tests.Data;

namespace ActorFace.Model.Tests.Formats.RecordIO;

/// <summary>Spec Appendix D "RecordIO bytes", written and read back.</summary>
public class RecordIOBytesTests
{
    static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", "").Replace("|", ""));

    static readonly byte[] ScalarRecord = Hex("0a 23 d7 ce 1b 00 00 00 | 00 00 00 00 | 00 00 40 40 | 07 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 61 62 63 | 00");
    static readonly byte[] HeaderRecord = Hex("0a 23 d7 ce 20 00 00 00 | 02 00 00 00 | 00 00 00 00 | 00 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | ee 10 9e 4a | dc ea a0 4a");
    static readonly byte[] MultiPart = Hex("0a 23 d7 ce 04 00 00 20 41 42 43 44 | 0a 23 d7 ce 05 00 00 60 45 46 47 48 49 00 00 00");
    static readonly byte[] MultiPartPayload = Hex("41 42 43 44 0a 23 d7 ce 45 46 47 48 49");

    [Fact]
    public void ScalarLabelRecordMatchesGoldenBytes()
    {
        var payload = ImageRecord.Pack(new IRHeader(0, 3.0f, 7, 0), [], "abc"u8);
        Assert.Equal(27, payload.Length);
        Assert.Equal(ScalarRecord, RecordIOWriter.Frame(payload));

        var rec = ImageRecord.Unpack(payload, "mem", 0);
        Assert.Equal(new IRHeader(0, 3.0f, 7, 0), rec.Header);
        Assert.Equal(3.0f, rec.PrimaryLabel);
        Assert.Equal("abc"u8.ToArray(), rec.Body.ToArray());
    }

    [Fact]
    public void InsightFaceHeaderRecordMatchesGoldenBytes()
    {
        var payload = ImageRecord.Pack(new IRHeader(0, 0, 0, 1), [5179511f, 5272942f], default);
        Assert.Equal(HeaderRecord, RecordIOWriter.Frame(payload));

        var rec = ImageRecord.Unpack(payload, "mem", 0);
        Assert.Equal(2u, rec.Header.Flag);
        Assert.Equal([5179511f, 5272942f], rec.Labels);
        Assert.Equal(0, rec.Body.Length);
    }

    [Fact]
    public void PayloadContainingMagicIsSplitAndRebuilt()
    {
        Assert.Equal(MultiPart, RecordIOWriter.Frame(MultiPartPayload));

        using var dir = new TempDirectory("actorface-data-");
        var rec = dir["t.rec"];
        File.WriteAllBytes(rec, [.. ScalarRecord, .. MultiPart, .. HeaderRecord]);
        using var reader = new RecordIOReader(rec, null);
        var all = reader.Scan().ToList();
        Assert.Equal(3, all.Count);
        Assert.Equal(MultiPartPayload, all[1].Payload);
        Assert.Equal(ScalarRecord.Length, all[1].Offset);
        Assert.Equal(ScalarRecord.Length + MultiPart.Length, all[2].Offset);
    }

    [Fact]
    public void MagicAtOffsetZeroAndRepeatedMagicRoundTrip()
    {
        byte[] magic = [0x0a, 0x23, 0xd7, 0xce];
        byte[] payload = [.. magic, .. magic, 1, 2, 3, 4, .. magic, 9];
        using var dir = new TempDirectory("actorface-data-");
        using (var w = RecordIOWriter.CreatePrefix(dir["p"]))
        {
            w.Write(5, payload);
            w.Write(6, [7, 7, 7]);
        }
        using var reader = RecordIOReader.OpenPrefix(dir["p"]);
        Assert.Equal(payload, reader.ReadRecord(5));
        Assert.Equal([7, 7, 7], reader.ReadRecord(6));
        Assert.Equal([5L, 6L], reader.Index!.Keys);
    }

    [Fact]
    public void Float32LabelsAreExactOnlyBelow2Pow24()
    {
        var payload = ImageRecord.Pack(new IRHeader(0, 0, 0, 0), [42_474_558f], default);
        Assert.Equal(42_474_560f, ImageRecord.Unpack(payload, "mem", 0).Labels[0]);
    }
}
