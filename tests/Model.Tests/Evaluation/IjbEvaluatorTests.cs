using System.Globalization;
using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Evaluation;

/// <summary>
/// A hand-built IJB-style set: loose crops 130×140 with a solid-colour face placed at (9, 17) and landmarks on the
/// ArcFace template shifted by the same offset, so alignment is an exact crop. A fake embedder maps red/green/blue
/// to the unit axes e1/e2/e3, so template vectors and cosines can be worked out by hand.
/// </summary>
public class IjbEvaluatorTests : IDisposable
{
    readonly TempDirectory root = new("afijb");

    public void Dispose() => root.Dispose();

    sealed class ColourEmbedder : IFaceEmbedder
    {
        public string Description => "colour";
        public void Dispose() { }
        public float[][] Embed(IReadOnlyList<RgbImage> faces) => faces.Select(f =>
        {
            int centre = (56 * 112 + 56) * 3; // lossless PNG + exact crop: the centre pixel is the face colour
            return new[] { f.Pixels[centre] / 255f, f.Pixels[centre + 1] / 255f, f.Pixels[centre + 2] / 255f };
        }).ToArray();
    }

    [Fact]
    public void TemplatePoolingScoresAndTarMatchHandComputedValues()
    {
        // (image, template, media, colour, detector score)
        var faces = new (string Name, int T, int M, char C, double S)[]
        {
            ("a.png", 1, 10, 'r', 1.0),                                  // T1 = e1
            ("b.png", 2, 20, 'r', 0.5), ("c.png", 2, 20, 'r', 0.9),      // T2: one media, mean 1.4·e1 → e1
            ("d.png", 3, 30, 'g', 1.0), ("e.png", 3, 31, 'r', 1.0), ("f.png", 3, 31, 'r', 1.0), // T3 = 2e2 + 2e1 → (e1+e2)/√2
            ("g.png", 4, 40, 'b', 1.0),                                  // T4 = e3
            ("h.png", 5, 50, 'r', 3.0), ("i.png", 5, 51, 'g', 1.0),      // T5 = 6e1 + 2e2 → (3,1)/√10
            ("j.png", 6, 60, 'b', 2.0),                                  // T6 = e3
        };
        var pairs = new (int A, int B, int Label)[]
        {
            (1, 2, 1), (4, 6, 1), (1, 5, 1), (1, 3, 1),                  // genuine: 1, 1, 3/√10, 1/√2
            (3, 5, 0),                                                   // impostor: 4/√20
            (1, 4, 0), (2, 4, 0), (3, 4, 0), (4, 5, 0), (1, 6, 0), (2, 6, 0), (5, 6, 0), // impostors: 0
        };
        WriteFixture(faces, pairs);

        var meta = IjbMeta.Load(root, "IJBC");
        var result = IjbEvaluator.Run(meta, new ColourEmbedder(), chunk: 4);

        double[] expected = { 1, 1, 3 / Math.Sqrt(10), 1 / Math.Sqrt(2), 4 / Math.Sqrt(20), 0, 0, 0, 0, 0, 0, 0 };
        Assert.Equal(expected.Length, result.Scores.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], result.Scores[i], 6);

        // Descending: 1 (G,G), 0.949 G, 0.894 I, 0.707 G, 0 (7 I) → fpr 0,0,0,1/8,1/8,1 ; tpr 0,.5,.75,.75,1,1.
        // FAR ≤ 1e-2 → closest fpr 0 with the largest tpr 0.75; FAR 0.1 → fpr 0.125 (|0.025| < |0.1|) → tpr 1.
        Assert.Equal(new[] { 0, 0, 0, 0.125, 0.125, 1 }, result.Roc.Fpr);
        Assert.Equal(new[] { 0.75, 0.75, 0.75, 0.75, 0.75, 1.0 }, result.TarAtFar);
        var table = result.Table("fake").Split(Environment.NewLine);
        Assert.Equal("| Methods | 1e-06 | 1e-05 | 0.0001 | 0.001 | 0.01  |  0.1   |", table[1]);
        Assert.Equal("|  fake   | 75.00 | 75.00 | 75.00  | 75.00 | 75.00 | 100.00 |", table[3]);
        Assert.Equal(6, result.Templates);

        var png = Path.Combine(root, "roc.png");
        IjbEvaluator.SaveRocPng(png, "fake", result);
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void MismatchedMetaOrderNamesTheFileAndLine()
    {
        WriteFixture(new[] { ("a.png", 1, 1, 'r', 1.0), ("b.png", 2, 2, 'g', 1.0) }, new[] { (1, 2, 0) });
        var lmk = Path.Combine(root, "meta", "ijbc_name_5pts_score.txt");
        File.WriteAllLines(lmk, File.ReadAllLines(lmk).Reverse());
        var e = Assert.Throws<InvalidDataException>(() => IjbMeta.Load(root, "IJBC"));
        Assert.Contains("ijbc_name_5pts_score.txt:1", e.Message);
    }

    void WriteFixture((string Name, int T, int M, char C, double S)[] faces, (int A, int B, int Label)[] pairs)
    {
        Directory.CreateDirectory(Path.Combine(root, "meta"));
        Directory.CreateDirectory(Path.Combine(root, "loose_crop"));
        var inv = CultureInfo.InvariantCulture;
        var tpl = FaceAligner.ArcFaceTemplate;
        var lmk = string.Join(" ", Enumerable.Range(0, 5).Select(i => $"{(tpl[i, 0] + 9).ToString(inv)} {(tpl[i, 1] + 17).ToString(inv)}"));
        foreach (var f in faces)
        {
            var px = new byte[130 * 140 * 3];
            for (int y = 17; y < 17 + 112; y++)
                for (int x = 9; x < 9 + 112; x++)
                    px[(y * 130 + x) * 3 + "rgb".IndexOf(f.C)] = 255;
            File.WriteAllBytes(Path.Combine(root, "loose_crop", f.Name), ImageCodec.Encode(new RgbImage(130, 140, px), SKEncodedImageFormat.Png));
        }
        File.WriteAllLines(Path.Combine(root, "meta", "ijbc_face_tid_mid.txt"), faces.Select(f => $"{f.Name} {f.T} {f.M}"));
        File.WriteAllLines(Path.Combine(root, "meta", "ijbc_name_5pts_score.txt"), faces.Select(f => $"{f.Name} {lmk} {f.S.ToString(inv)}"));
        File.WriteAllLines(Path.Combine(root, "meta", "ijbc_template_pair_label.txt"), pairs.Select(p => $"{p.A} {p.B} {p.Label}"));
    }
}
