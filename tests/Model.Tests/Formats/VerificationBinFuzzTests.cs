using ActorFace.Model.Formats.Images;
using ActorFace.Model.Evaluation;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Model.Tests.Formats;

/// <summary>Mutation fuzzing of the verification .bin reader (PickleGuard, the unpickler, image decoding).</summary>
public sealed class VerificationBinFuzzTests : IDisposable
{
    readonly TempDirectory dir = new("actorface-fuzz-bin-");
    readonly ITestOutputHelper output;

    public VerificationBinFuzzTests(ITestOutputHelper output) => this.output = output;

    public void Dispose() => dir.Dispose();

    static readonly Type[] Documented = [typeof(InvalidDataException), typeof(UnsafePickleException)];

    byte[] SeedBin()
    {
        var images = Enumerable.Range(0, 4).Select(k =>
        {
            var rgb = new byte[16 * 16 * 3];
            for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * (k + 1));
            return ImageCodec.EncodeJpeg(rgb, 16, 16, 50);
        }).ToList();
        using var bin = new MemoryStream();
        PickleWriter.WriteVerificationBin(bin, images, [true, false]);
        return bin.ToArray();
    }

    [Fact]
    public void MutatedVerificationBinsParseOrFailWithADocumentedError()
    {
        var seed = SeedBin();
        var path = Path.Combine(dir, "case.bin");
        var report = new MutationFuzzer(seed: 13).Run([seed], MutationFuzzer.CaseCount(2000), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var bin = VerificationBin.Load(path);
            bin.DecodeImages();
        }, Documented, TimeSpan.FromSeconds(10));
        output.WriteLine($".bin: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }
}
