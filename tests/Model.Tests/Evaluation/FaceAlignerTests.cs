using ActorFace.Model.Evaluation;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Evaluation;

public class FaceAlignerTests
{
    [Fact]
    public void RecoversAKnownSimilarityTransform()
    {
        // landmarks = template rotated by 30°, scaled ×1.7 and shifted; the estimate must map them back exactly.
        double c = Math.Cos(Math.PI / 6) * 1.7, s = Math.Sin(Math.PI / 6) * 1.7;
        var t = FaceAligner.ArcFaceTemplate;
        var src = new double[5, 2];
        for (int i = 0; i < 5; i++) { src[i, 0] = c * t[i, 0] - s * t[i, 1] + 40; src[i, 1] = s * t[i, 0] + c * t[i, 1] - 12; }
        var m = FaceAligner.EstimateSimilarity(src, t);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(t[i, 0], m[0, 0] * src[i, 0] + m[0, 1] * src[i, 1] + m[0, 2], 9);
            Assert.Equal(t[i, 1], m[1, 0] * src[i, 0] + m[1, 1] * src[i, 1] + m[1, 2], 9);
        }
        Assert.Equal(1 / 1.7, Math.Sqrt(m[0, 0] * m[0, 0] + m[1, 0] * m[1, 0]), 9);
    }

    [Fact]
    public void IntegerTranslationCropsExactlyAndPadsBlack()
    {
        var img = new RgbImage(150, 140, Enumerable.Range(0, 150 * 140 * 3).Select(i => (byte)(i * 7 % 251)).ToArray());
        var t = FaceAligner.ArcFaceTemplate;
        var lm = new double[5, 2];
        for (int i = 0; i < 5; i++) { lm[i, 0] = t[i, 0] + 10; lm[i, 1] = t[i, 1] + 20; }
        var face = FaceAligner.Align(img, lm);
        Assert.True(face.IsFaceSized);
        for (int y = 0; y < 112; y++)
            for (int x = 0; x < 112; x++)
                for (int ch = 0; ch < 3; ch++)
                {
                    int sy = y + 20, sx = x + 10;
                    byte expected = sy < 140 ? img.Pixels[(sy * 150 + sx) * 3 + ch] : (byte)0;
                    Assert.Equal(expected, face.Pixels[(y * 112 + x) * 3 + ch]);
                }
    }
}
