using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Host.Tests.Evaluation;

/// <summary>
/// Generated inputs for the eval/embed commands, so that what the commands do (options, output formats, errors) is
/// tested without the reference folder; the real bins and the pretrained model check the numbers (ReferenceFact).
/// </summary>
internal static class SyntheticEvalInputs
{
    /// <summary>A 112x112 (or w x h) gradient image; different seeds give different images.</summary>
    public static RgbImage Face(int seed, int w = 112, int h = 112) =>
        new(w, h, Enumerable.Range(0, w * h * 3).Select(i => (byte)((i / 3 % w) * 2 + (i / 3 / w) + seed * 37 + i % 3 * 50)).ToArray());

    /// <summary>
    /// A verification bin of <paramref name="pairs"/> pairs in LFW order per fold (same, then different): a "same"
    /// pair is one face and its mirror, a "different" pair two faces.
    /// </summary>
    public static string Bin(string dir, string name = "synthetic", int pairs = 20)
    {
        var images = new List<byte[]>();
        var same = new List<bool>();
        for (int i = 0; i < pairs; i++)
        {
            var a = Face(i);
            var b = i % 2 == 0 ? Mirror(a) : Face(i + 100);
            images.Add(ImageCodec.Encode(a, SKEncodedImageFormat.Png));
            images.Add(ImageCodec.Encode(b, SKEncodedImageFormat.Png));
            same.Add(i % 2 == 0);
        }
        var path = Path.Combine(dir, name + ".bin");
        new VerificationBin(name, images, same).Save(path);
        return path;
    }

    /// <summary>
    /// An ONNX model [N,3,112,112] → [N,147] (16x16 block maxima) standing in for a face model; repeatable bit for bit,
    /// where a mean over the image can differ in the last bits between runs (onnxruntime's summation order).
    /// </summary>
    public static string TinyModel(string dir)
    {
        var path = Path.Combine(dir, "tiny.onnx");
        TinyOnnxModel.WriteBlockMax(path);
        return path;
    }

    static RgbImage Mirror(RgbImage face)
    {
        var pixels = new byte[face.Pixels.Length];
        for (int y = 0; y < face.Height; y++)
            for (int x = 0; x < face.Width; x++)
                Array.Copy(face.Pixels, (y * face.Width + x) * 3, pixels, (y * face.Width + face.Width - 1 - x) * 3, 3);
        return new RgbImage(face.Width, face.Height, pixels);
    }
}
