using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Evaluation;
using ActorFace.Model.Communication.Security;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Model.Tests.Formats;

/// <summary>
/// The file readers of the fuzz suites fed special files (issue 16): a FIFO must not block, /dev/zero behind a symlink
/// must not be read until memory runs out. Each case runs under the fuzzer's deadline and allocation limit.
/// </summary>
public sealed class SpecialFileTests : IDisposable
{
    readonly TempDirectory dir = new("actorface-special-");

    public void Dispose() => dir.Dispose();

    /// <summary>Every reader a user's path reaches, with the label its errors use.</summary>
    public static TheoryData<string, string> Readers => new()
    {
        { "pth", "weights" }, { "bin", "verification bin" }, { "image", "image" }, { "secret", "cluster secret file" },
        { "pem", "TLS certificate" }, { "onnx", "ONNX model" }, { "landmarks", "--landmarks" },
        { "rec", "RecordIO file" }, { "idx", "RecordIO index" },
    };

    static void Read(string reader, string path)
    {
        switch (reader)
        {
            case "pth": PthArchive.Read(path); break;
            case "bin": VerificationBin.Load(path); break;
            case "image": ImageCodec.DecodeFile(path); break;
            case "secret": ClusterSecret.FromFile(path); break;
            case "pem": TlsCredentials.FromPemFiles(path, path, path); break;
            case "onnx": new OnnxFaceEmbedder(path).Dispose(); break;
            case "landmarks": FaceImageLoader.ReadLandmarks(path); break;
            case "rec": new ActorFace.Model.Formats.RecordIO.RecordIOReader(path, null).Dispose(); break;
            case "idx": ActorFace.Model.Formats.RecordIO.RecordIndex.Load(path, 1 << 20); break;
        }
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void FifosAndDevZeroLinksAreRefusedWithoutBlockingOrReading(string reader, string label)
    {
        foreach (var path in SpecialFiles.Both(dir, "." + reader))
        {
            string? message = null;
            var outcome = MutationFuzzer.RunOne([], _ =>
            {
                try { Read(reader, path); }
                catch (InvalidDataException e) { message = e.Message; throw; }
            }, [typeof(InvalidDataException)], TimeSpan.FromSeconds(10), maxAllocatedBytes: 16L << 20);
            Assert.Null(outcome);
            Assert.NotNull(message);
            Assert.Contains($"{label} {path}: is a", message);
            Assert.Contains("not a regular file", message);
            Assert.Contains(path.Contains("fifo") ? "FIFO" : "character device (a symbolic link to /dev/zero)", message);
        }
    }

    [Fact]
    public void AFileLargerThanItsReaderExpectsIsRefusedUnread()
    {
        var path = Path.Combine(dir, "big.secret");
        File.WriteAllBytes(path, new byte[ClusterSecret.MaxFileBytes + 1]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var e = Assert.Throws<InvalidDataException>(() => ClusterSecret.FromFile(path));
        Assert.Contains($"cluster secret file {path}: 65,537 bytes, more than the 65,536 this file may have", e.Message);
    }

    [Theory]
    [InlineData(UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.OtherRead | UnixFileMode.GroupRead, "0644")]
    public void ASecretFileOthersCanReadIsRefusedLikeSshRefusesALooseKey(UnixFileMode loose, string octal)
    {
        var path = Path.Combine(dir, "secret");
        File.WriteAllText(path, Convert.ToBase64String(new byte[32]));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | loose);
        var e = Assert.Throws<InvalidDataException>(() => ClusterSecret.FromFile(path));
        Assert.Contains($"cluster secret file {path}: permissions {octal} are too open", e.Message);
        Assert.Contains($"chmod 600 {path}", e.Message);

        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        Assert.NotNull(ClusterSecret.FromFile(path)); // 0400 and 0600 are fine
    }

    [Fact]
    public void EmbeddingsWithNonFiniteValuesAreRefusedNamingTheImageAndModel()
    {
        float[][] rows = [[1f, 2f], [float.NaN, float.PositiveInfinity], [0f, float.NaN]];
        var e = Assert.Throws<InvalidDataException>(() => EmbeddingCheck.RequireFinite(rows, i => $"img{i}.png", "--weights w.pth (r50)"));
        Assert.Equal("--weights w.pth (r50): the embedding of img1.png has 2 non-finite value(s) (NaN or infinity) of 2, and 1 more image(s) too; " +
                     "the model's weights are broken (NaN/Inf weights, e.g. from a diverged run or a corrupt file); nothing was written", e.Message);
        EmbeddingCheck.RequireFinite([[1f, 2f]], i => "", "m"); // finite rows pass
    }
}
