using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Evaluation;

/// <summary>Tiny generated face-like images for fixtures (no real data).</summary>
internal static class FaceFixtures
{
    /// <summary>A 112×112 image: solid colour with a unique dot pattern so every file's bytes differ.</summary>
    public static RgbImage Solid(byte r, byte g, byte b, int mark = 0, int size = 112)
    {
        var px = new byte[size * size * 3];
        for (int i = 0; i < size * size; i++) { px[3 * i] = r; px[3 * i + 1] = g; px[3 * i + 2] = b; }
        for (int bit = 0; bit < 16; bit++)
            if ((mark >> bit & 1) == 1)
                for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) { int o = ((4 + y) * size + 4 + bit * 6 + x) * 3; px[o] = px[o + 1] = px[o + 2] = 255; }
        return new RgbImage(size, size, px);
    }

    /// <summary>ImageFolder with <paramref name="identities"/> folders of <paramref name="perIdentity"/> JPEGs each.</summary>
    public static string ImageFolder(string root, int identities, int perIdentity)
    {
        for (int id = 0; id < identities; id++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, $"{1000 + id}")).FullName;
            for (int k = 0; k < perIdentity; k++)
                File.WriteAllBytes(Path.Combine(dir, $"{k:D3}.jpg"),
                    ImageCodec.Encode(Solid((byte)(id * 20), (byte)(k * 30), 128, id * 64 + k + 1), SKEncodedImageFormat.Jpeg));
        }
        return root;
    }
}
