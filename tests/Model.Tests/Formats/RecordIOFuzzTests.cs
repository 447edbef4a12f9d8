using ActorFace.Model.Data;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.RecordIO;

namespace ActorFace.Model.Tests.Formats;

/// <summary>Mutation fuzzing of the RecordIO pack reader (.rec framing, IRHeader, .idx, MXFaceDataset, image decode).</summary>
public sealed class RecordIOFuzzTests : IDisposable
{
    readonly TempDirectory dir = new("actorface-fuzz-rec-");
    readonly ITestOutputHelper output;

    public RecordIOFuzzTests(ITestOutputHelper output) => this.output = output;

    public void Dispose() => dir.Dispose();

    static readonly Type[] Documented = [typeof(DataFormatException), typeof(InvalidDataException), typeof(FormatException)];

    /// <summary>An InsightFace-layout pack: header record (images 1..3, classes [3, 5)), three small JPEG faces.</summary>
    (byte[] Rec, byte[] Idx) SeedPack()
    {
        var prefix = Path.Combine(dir, "seed");
        using (var writer = RecordIOWriter.CreatePrefix(prefix))
        {
            writer.Write(0, ImageRecord.Pack(new IRHeader(0, 0, 0, 0), [4f, 6f], []));
            for (var k = 1; k <= 3; k++)
            {
                var rgb = new byte[16 * 16 * 3];
                for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * k);
                writer.Write(k, ImageRecord.Pack(new IRHeader(0, k % 2, (ulong)k, 0), [], ImageCodec.EncodeJpeg(rgb, 16, 16, 50)));
            }
        }
        return (File.ReadAllBytes(prefix + ".rec"), File.ReadAllBytes(prefix + ".idx"));
    }

    void OpenAndReadAll(string prefix)
    {
        using var dataset = new MXFaceDataset(prefix);
        for (var i = 0; i < Math.Min(dataset.Count, 8); i++) dataset.Read(i);
    }

    [Fact]
    public void MutatedRecFilesParseOrFailWithADocumentedError()
    {
        var (rec, idx) = SeedPack();
        var prefix = Path.Combine(dir, "case");
        File.WriteAllBytes(prefix + ".idx", idx);
        var report = new MutationFuzzer(seed: 11).Run([rec], MutationFuzzer.CaseCount(1500), bytes =>
        {
            File.WriteAllBytes(prefix + ".rec", bytes);
            using (var reader = new RecordIOReader(prefix + ".rec", null))
                foreach (var (_, payload) in reader.Scan().Take(16)) ImageRecord.Unpack(payload, reader.RecPath, 0);
            OpenAndReadAll(prefix);
        }, Documented, TimeSpan.FromSeconds(10));
        output.WriteLine($".rec: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Fact]
    public void MutatedIdxFilesParseOrFailWithADocumentedError()
    {
        var (rec, idx) = SeedPack();
        var prefix = Path.Combine(dir, "case");
        File.WriteAllBytes(prefix + ".rec", rec);
        var report = new MutationFuzzer(seed: 12).Run([idx], MutationFuzzer.CaseCount(1000), bytes =>
        {
            File.WriteAllBytes(prefix + ".idx", bytes);
            OpenAndReadAll(prefix);
        }, Documented, TimeSpan.FromSeconds(10));
        output.WriteLine($".idx: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Fact]
    public void HeaderRecordAnnouncingMoreImagesThanTheIndexHoldsIsRefusedBeforeAllocating()
    {
        var prefix = Path.Combine(dir, "huge");
        using (var writer = RecordIOWriter.CreatePrefix(prefix))
            writer.Write(0, ImageRecord.Pack(new IRHeader(0, 0, 0, 0), [1e15f, 1e15f + 2], []));
        var e = Assert.Throws<DataFormatException>(() => new MXFaceDataset(prefix).Dispose());
        Assert.Contains("index", e.Message);
    }
}
