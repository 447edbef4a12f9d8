using ActorFace.Model.Evaluation;

namespace ActorFace.Model.Tests.Evaluation;

public class VerificationBinBuilderTests : IDisposable
{
    readonly TempDirectory dir = new("afmk");

    public void Dispose() => dir.Dispose();

    [Fact]
    public void IdentityDisjointBinRoundTripsWithFoldLayout()
    {
        var root = FaceFixtures.ImageFolder(Path.Combine(dir, "faces"), identities: 24, perIdentity: 6);
        var identityOf = Directory.GetFiles(root, "*.jpg", SearchOption.AllDirectories)
            .ToDictionary(f => Convert.ToBase64String(File.ReadAllBytes(f)), f => Path.GetFileName(Path.GetDirectoryName(f))!);

        var (bin, report) = VerificationBinBuilder.Build(root, 40, seed: 7, identityDisjoint: true, name: "mini");
        Assert.Equal(0, report.ReusedImages);
        var path = Path.Combine(dir, "mini.bin");
        bin.Save(path);
        var back = VerificationBin.Load(path);

        Assert.Equal(40, back.PairCount);
        Assert.Equal(80, back.Images.Select(Convert.ToBase64String).Distinct().Count()); // every image used once
        var ids = back.Images.Select(b => identityOf[Convert.ToBase64String(b)]).ToArray();
        var foldIds = new List<HashSet<string>>();
        for (int f = 0; f < 10; f++)
        {
            var idsInFold = new HashSet<string>();
            for (int k = 0; k < 4; k++)
            {
                int pair = 4 * f + k;
                Assert.Equal(k < 2, back.IsSame[pair]);                        // same pairs first, then different
                Assert.Equal(back.IsSame[pair], ids[2 * pair] == ids[2 * pair + 1]); // labels agree with folders
                idsInFold.Add(ids[2 * pair]); idsInFold.Add(ids[2 * pair + 1]);
            }
            foldIds.Add(idsInFold);
        }
        for (int a = 0; a < 10; a++) for (int b = a + 1; b < 10; b++) Assert.Empty(foldIds[a].Intersect(foldIds[b]));
    }

    [Fact]
    public void SameSeedSameBinAndBadPairCountRefused()
    {
        var root = FaceFixtures.ImageFolder(Path.Combine(dir, "faces"), identities: 4, perIdentity: 3);
        var a = VerificationBinBuilder.Build(root, 20, 1, false).Bin;
        var b = VerificationBinBuilder.Build(root, 20, 1, false).Bin;
        Assert.Equal(a.Images, b.Images);
        Assert.Contains("multiple of 20", Assert.Throws<ArgumentException>(() => VerificationBinBuilder.Build(root, 30, 1, false)).Message);
        Assert.Contains("identity-disjoint", Assert.Throws<ArgumentException>(() => VerificationBinBuilder.Build(root, 20, 1, true)).Message);
        // 12 images cannot fill 40 slots without reuse, which the report counts
        Assert.True(VerificationBinBuilder.Build(root, 20, 1, false).Report.ReusedImages > 0);
    }
}
