namespace ActorFace.Model.Formats.Images;

/// <summary>An 8-bit RGB image, row-major HWC, the layout every embedder consumes.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public const int FaceSize = 112;

    public static RgbImage Create(int width, int height, byte[] pixels)
    {
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"RGB buffer holds {pixels.Length} bytes, expected {width}x{height}x3 = {width * height * 3}");
        return new RgbImage(width, height, pixels);
    }

    public bool IsFaceSized => Width == FaceSize && Height == FaceSize;

    /// <summary>Mirror along the width axis (the verification "flip" copy).</summary>
    public RgbImage FlipHorizontal()
    {
        var dst = new byte[Pixels.Length];
        int row = Width * 3;
        for (int y = 0; y < Height; y++)
        {
            int o = y * row;
            for (int x = 0; x < Width; x++)
            {
                int s = o + x * 3, d = o + (Width - 1 - x) * 3;
                dst[d] = Pixels[s]; dst[d + 1] = Pixels[s + 1]; dst[d + 2] = Pixels[s + 2];
            }
        }
        return new RgbImage(Width, Height, dst);
    }
}
