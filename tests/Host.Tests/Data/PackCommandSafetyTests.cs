using ActorFace.Host.Tests.Train;
using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.RecordIO;

namespace ActorFace.Host.Tests.Data;

/// <summary>`actorface pack` as a user runs it (real process): bad images are decoded, listed and skipped (or fail
/// the pack with --strict), and an existing pack is never damaged: refused without --force, replaced atomically with
/// it, and a symlinked output is replaced instead of written through.</summary>
public sealed class PackCommandSafetyTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-pack-safety-");

    public void Dispose() => _dir.Dispose();

    private static RgbImage Face(int seed) =>
        new(112, 112, Enumerable.Range(0, 112 * 112 * 3).Select(i => (byte)((i / 3 % 112) * 2 + (i / 3 / 112) + seed * 37 + i % 3 * 50)).ToArray());

    /// <summary>Two identities of three good JPEGs; with <paramref name="bad"/> identity 1 also holds a zero-byte,
    /// a truncated and a random-bytes "JPEG".</summary>
    private string Images(string name, bool bad)
    {
        var root = Path.Combine(_dir, name);
        for (int id = 0; id < 2; id++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"id{id}"));
            for (int k = 0; k < 3; k++)
                File.WriteAllBytes(Path.Combine(root, $"id{id}", $"{k}.jpg"), ImageCodec.Encode(Face(id * 3 + k), SKEncodedImageFormat.Jpeg));
        }
        if (bad)
        {
            var good = File.ReadAllBytes(Path.Combine(root, "id1", "0.jpg"));
            File.WriteAllBytes(Path.Combine(root, "id1", "zero.jpg"), []);
            File.WriteAllBytes(Path.Combine(root, "id1", "truncated.jpg"), good[..(good.Length / 3)]);
            File.WriteAllBytes(Path.Combine(root, "id1", "corrupt.jpg"), Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        }
        return root;
    }

    private static async Task<(int Code, string Output)> Pack(params string[] args)
    {
        using var p = new ActorfaceProcess(["pack", .. args]);
        var code = await p.WaitAsync(TimeSpan.FromMinutes(2));
        return (code, p.Output);
    }

    [Fact]
    public async Task CorruptImagesAreSkippedAndListedOrFailThePackWithStrict()
    {
        var images = Images("bad", bad: true);
        var prefix = Path.Combine(_dir, "out", "train");

        var strict = await Pack("--images", images, "--out", prefix, "--strict");
        Assert.True(strict.Code == 2, strict.Output);
        Assert.Contains("error: 3 of 9 image(s) in " + images + " do not decode (--strict; nothing written)", strict.Output);
        Assert.Contains("zero.jpg: empty image body", strict.Output);
        Assert.DoesNotContain("   at ", strict.Output);
        Assert.False(File.Exists(prefix + ".rec"));
        Assert.Empty(Directory.Exists(Path.GetDirectoryName(prefix)) ? Directory.GetFiles(Path.GetDirectoryName(prefix)!) : []);

        var lenient = await Pack("--images", images, "--out", prefix);
        Assert.True(lenient.Code == 0, lenient.Output);
        foreach (var name in new[] { "zero.jpg", "truncated.jpg", "corrupt.jpg" })
            Assert.Contains("ERR skipped: " + Path.Combine(images, "id1", name), lenient.Output);
        Assert.Contains("6 images, 2 identities", lenient.Output);
        Assert.Contains("3 image(s) skipped because they do not decode", lenient.Output);
        var report = PackVerifier.Verify(prefix);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.Equal(6, report.Images);
    }

    [Fact]
    public async Task AnExistingPackIsRefusedWithoutForceAndSurvivesAFailedRepack()
    {
        var prefix = Path.Combine(_dir, "out", "train");
        Assert.Equal(0, (await Pack("--images", Images("good", bad: false), "--out", prefix)).Code);
        var before = File.ReadAllBytes(prefix + ".rec");

        var again = await Pack("--images", Images("good2", bad: false), "--out", prefix);
        Assert.True(again.Code == 2, again.Output);
        Assert.Contains("already exist(s); nothing was changed. Use --force to replace", again.Output);

        // A repack that fails (every image corrupt) leaves the earlier pack byte for byte, and no temporaries.
        var broken = Path.Combine(_dir, "broken");
        Directory.CreateDirectory(Path.Combine(broken, "id0"));
        File.WriteAllBytes(Path.Combine(broken, "id0", "a.jpg"), []);
        var failed = await Pack("--images", broken, "--out", prefix, "--force");
        Assert.True(failed.Code == 2, failed.Output);
        Assert.Contains("none of the 1 image(s)", failed.Output);
        Assert.Equal(before, File.ReadAllBytes(prefix + ".rec"));
        Assert.Equal(3, Directory.GetFiles(Path.GetDirectoryName(prefix)!).Length);
        Assert.True(PackVerifier.Verify(prefix).Ok);
    }

    [Fact]
    public async Task ForceReplacesASymlinkedOutputInsteadOfWritingThroughIt()
    {
        var outDir = Path.Combine(_dir, "out");
        Directory.CreateDirectory(outDir);
        var precious = Path.Combine(_dir, "precious.rec");
        File.WriteAllText(precious, "someone else's data");
        File.CreateSymbolicLink(Path.Combine(outDir, "train.rec"), precious);
        var prefix = Path.Combine(outDir, "train");

        var refused = await Pack("--images", Images("good", bad: false), "--out", prefix);
        Assert.Equal(2, refused.Code);
        var forced = await Pack("--images", Images("good", bad: false), "--out", prefix, "--force");
        Assert.True(forced.Code == 0, forced.Output);
        Assert.Equal("someone else's data", File.ReadAllText(precious));
        Assert.Null(new FileInfo(prefix + ".rec").LinkTarget);
        Assert.True(PackVerifier.Verify(prefix).Ok);
    }
}
