using ActorFace.Model.Evaluation;
using ActorFace.Tests;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Model.Tests.Evaluation;

public class VerificationBinTests : IDisposable
{
    readonly TempDirectory dir = new("afbin");

    public void Dispose() => dir.Dispose();

    string Write(string name, byte[] pickle)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, pickle);
        return path;
    }

    static readonly byte[] ImgA = { 1, 2, 3, 0xff }, ImgB = { 0, 0x80, 0xfe }, ImgC = new byte[300], ImgD = { 9 };

    static PickleBuilder TwoPairs(Func<PickleBuilder, byte[], PickleBuilder> image, Action<PickleBuilder> issame, int proto)
    {
        var p = new PickleBuilder().Proto(proto).Op(']').Op('(');
        foreach (var img in new[] { ImgA, ImgB, ImgC, ImgD }) image(p, img);
        p.Op('e');
        issame(p);
        return p.Op(0x86).Op('.');
    }

    static void PlainBools(PickleBuilder p) => p.Op(']').Op('(').Bool(true).Bool(false).Op('e');

    void AssertTwoPairs(VerificationBin bin)
    {
        Assert.Equal(2, bin.PairCount);
        Assert.Equal(new[] { ImgA, ImgB, ImgC, ImgD }, bin.Images);
        Assert.Equal(new[] { true, false }, bin.IsSame);
    }

    [Fact]
    public void ReadsPython3Bytes() =>
        AssertTwoPairs(VerificationBin.Load(Write("p3.bin", TwoPairs((p, b) => p.Bytes(b), PlainBools, 3).ToArray())));

    [Fact]
    public void ReadsPython2StrAsLatin1Bytes() =>
        AssertTwoPairs(VerificationBin.Load(Write("p2.bin", TwoPairs((p, b) => p.Py2Str(b), PlainBools, 2).ToArray())));

    [Fact]
    public void ReadsNumpyUint8ArraysAndNumpyBools()
    {
        void NumpyBools(PickleBuilder p)
        {
            p.Op(']').Op('(');
            foreach (var v in new[] { true, false })
            {
                p.Global("numpy.core.multiarray", "scalar").DType("b1", py2: true);
                p.Py2Str(new[] { (byte)(v ? 1 : 0) }).Op(0x86).Op('R');
            }
            p.Op('e');
        }
        var pickle = TwoPairs((p, b) => p.NdArray(new[] { b.Length, 1 }, "u1", b, py2: true), NumpyBools, 2);
        AssertTwoPairs(VerificationBin.Load(Write("np.bin", pickle.ToArray())));
    }

    [Fact]
    public void ReadsNumpyBoolArrayIssame()
    {
        var pickle = TwoPairs((p, b) => p.Bytes(b),
            p => p.NdArray(new[] { 2 }, "b1", new byte[] { 1, 0 }, py2: false), 3);
        AssertTwoPairs(VerificationBin.Load(Write("npb.bin", pickle.ToArray())));
    }

    [Fact]
    public void RefusesOsSystemGlobal()
    {
        var evil = new PickleBuilder().Proto(2).Global("os", "system").ShortUnicode("echo pwned").Op(0x85).Op('R').Op('.').ToArray();
        var path = Write("evil.bin", evil);
        var e = Assert.Throws<UnsafePickleException>(() => VerificationBin.Load(path));
        Assert.Contains("os.system", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void RefusesStackGlobalAndComputedNames()
    {
        var evil = new PickleBuilder().Proto(4).ShortUnicode("builtins").Op(0x94).ShortUnicode("eval").Op(0x94).Op(0x93)
            .ShortUnicode("1").Op(0x85).Op('R').Op('.').ToArray();
        Assert.Contains("builtins.eval", Assert.Throws<UnsafePickleException>(() => VerificationBin.Load(Write("sg.bin", evil))).Message);
        // memoised strings fetched back with BINGET are still recognised
        var viaMemo = new PickleBuilder().Proto(4).ShortUnicode("posix").Op((byte)'q', 0).ShortUnicode("system").Op((byte)'q', 1)
            .Op((byte)'h', 0).Op((byte)'h', 1).Op(0x93).Op('.').ToArray();
        Assert.Contains("posix.system", Assert.Throws<UnsafePickleException>(() => VerificationBin.Load(Write("m.bin", viaMemo))).Message);
        // names that are not provably constant are refused outright
        var computed = new PickleBuilder().Proto(4).ShortUnicode("os").ShortUnicode("x").Op('0').ShortUnicode("system").Op('0')
            .ShortUnicode("system").Op(0x93).Op('.').ToArray();
        Assert.Throws<UnsafePickleException>(() => VerificationBin.Load(Write("c.bin", computed)));
    }

    [Fact]
    public void NotAPickleNamesTheFile()
    {
        var path = Write("photo.bin", new byte[] { 0xff, 0xd8, 0xff, 0xe0, 1, 2 });
        var e = Assert.Throws<InvalidDataException>(() => VerificationBin.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a valid pickle", e.Message);
    }

    [Fact]
    public void PairCountMismatchIsAnError()
    {
        var p = new PickleBuilder().Proto(3).Op(']').Op('(').Bytes(ImgA).Bytes(ImgB).Bytes(ImgC).Op('e');
        p.Op(']').Op('(').Bool(true).Bool(true).Op('e').Op(0x86).Op('.');
        var e = Assert.Throws<InvalidDataException>(() => VerificationBin.Load(Write("odd.bin", p.ToArray())));
        Assert.Contains("3 images for 2 pairs", e.Message);
    }

    [Fact]
    public void SaveRoundTrips()
    {
        var bin = new VerificationBin("x", new[] { ImgA, ImgB, ImgC, ImgD, new byte[70000], ImgA }, new[] { true, false, true });
        var path = Path.Combine(dir, "x.bin");
        bin.Save(path);
        var back = VerificationBin.Load(path);
        Assert.Equal(bin.Images, back.Images);
        Assert.Equal(bin.IsSame, back.IsSame);
        Assert.Equal("x", back.Name);
    }

    [Fact]
    public void UndecodableImageIsNamedNotWrappedInAggregateException()
    {
        var good = ActorFace.Model.Formats.Images.ImageCodec.Encode(FaceFixtures.Solid(1, 2, 3), SkiaSharp.SKEncodedImageFormat.Png);
        var bin = new VerificationBin("broken", new[] { good, new byte[] { 1, 2, 3 } }, new[] { true });
        var e = Assert.Throws<InvalidDataException>(() => bin.DecodeImages());
        Assert.Contains("broken: image 1", e.Message);
    }

    [ReferenceFact("data/small_lfw.bin")]
    public void ReadsSmallLfwNumpyFixture()
    {
        var bin = VerificationBin.Load(SharedPaths.Data("small_lfw.bin"));
        Assert.Equal(10, bin.PairCount);
        Assert.All(bin.IsSame, Assert.True);
        Assert.All(bin.Images, img => Assert.Equal(new byte[] { 0xff, 0xd8 }, img.Take(2)));
        Assert.All(bin.Images, img => Assert.Equal(new byte[] { 0xff, 0xd9 }, img.TakeLast(2)));
        Assert.All(new DecodedVerificationSet(bin).FacesAndMirrors, f => Assert.True(f.IsFaceSized));
    }
    [Fact] // issue 16 item 12: "Sequence contains no elements" with a stack trace before
    public void ABinWithNoPairsOrTooFewForTheFoldsIsRefusedNamingTheFile()
    {
        var empty = Path.Combine(dir, "empty.bin");
        new VerificationBin("empty", [], []).Save(empty);
        Assert.Equal($"{empty}: holds no pairs (empty image list and issame_list): nothing to verify",
            Assert.Throws<InvalidDataException>(() => VerificationBin.Load(empty)).Message);

        var two = Write("two.bin", TwoPairs((p, b) => p.Bytes(b), PlainBools, 3).ToArray());
        Assert.Equal($"{two}: 2 pair(s); the 10-fold verification protocol needs at least 10",
            Assert.Throws<InvalidDataException>(() => DecodedVerificationSet.Load(two)).Message);
    }
}
