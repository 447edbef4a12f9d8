namespace ActorFace.Model.Formats.Images;

/// <summary>Geometric operations with OpenCV semantics (pixel centres at +0.5, bilinear, black border).</summary>
public static class ImageOps
{
    /// <summary>Bilinear resize like cv2.resize(INTER_LINEAR): source coordinate (x + 0.5)·scale − 0.5, clamped.</summary>
    public static RgbImage Resize(RgbImage src, int width, int height)
    {
        if (src.Width == width && src.Height == height) return src;
        var dst = new byte[width * height * 3];
        double sx = (double)src.Width / width, sy = (double)src.Height / height;
        for (int y = 0; y < height; y++)
        {
            double fy = Math.Clamp((y + 0.5) * sy - 0.5, 0, src.Height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, src.Height - 1);
            double wy = fy - y0;
            for (int x = 0; x < width; x++)
            {
                double fx = Math.Clamp((x + 0.5) * sx - 0.5, 0, src.Width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, src.Width - 1);
                double wx = fx - x0;
                for (int c = 0; c < 3; c++)
                {
                    double top = Px(src, x0, y0, c) * (1 - wx) + Px(src, x1, y0, c) * wx;
                    double bottom = Px(src, x0, y1, c) * (1 - wx) + Px(src, x1, y1, c) * wx;
                    dst[(y * width + x) * 3 + c] = Round(top * (1 - wy) + bottom * wy);
                }
            }
        }
        return new RgbImage(width, height, dst);
    }

    /// <summary>MXNet's resize_short as used for non-112 verification images: shorter side becomes <paramref name="size"/>.</summary>
    public static RgbImage ResizeShort(RgbImage src, int size)
    {
        if (Math.Min(src.Width, src.Height) == size) return src;
        var (width, height) = ResizeShortSize(src.Width, src.Height, size);
        return Resize(src, width, height);
    }

    /// <summary>The output size of <see cref="ResizeShort"/>.</summary>
    public static (int Width, int Height) ResizeShortSize(int width, int height, int size) =>
        Math.Min(width, height) == size ? (width, height)
        : width < height ? (size, (int)Math.Round((double)height * size / width))
        : ((int)Math.Round((double)width * size / height), size);

    /// <summary>
    /// cv2.warpAffine(src, M, (width, height)) with bilinear interpolation and a constant 0 border: each output pixel
    /// samples the source at M⁻¹·(x, y). Not OpenCV's 1/32-pixel fixed point, so values may differ by 1.
    /// </summary>
    public static RgbImage WarpAffine(RgbImage src, double[,] m, int width, int height)
    {
        double det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0];
        if (Math.Abs(det) < 1e-12) throw new ArgumentException("affine matrix is singular");
        double a = m[1, 1] / det, b = -m[0, 1] / det, c = -m[1, 0] / det, d = m[0, 0] / det;
        double tx = -(a * m[0, 2] + b * m[1, 2]), ty = -(c * m[0, 2] + d * m[1, 2]);
        var dst = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double sx = a * x + b * y + tx, sy = c * x + d * y + ty;
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                double wx = sx - x0, wy = sy - y0;
                for (int ch = 0; ch < 3; ch++)
                {
                    double v = Border(src, x0, y0, ch) * (1 - wx) * (1 - wy) + Border(src, x0 + 1, y0, ch) * wx * (1 - wy)
                             + Border(src, x0, y0 + 1, ch) * (1 - wx) * wy + Border(src, x0 + 1, y0 + 1, ch) * wx * wy;
                    dst[(y * width + x) * 3 + ch] = Round(v);
                }
            }
        return new RgbImage(width, height, dst);
    }

    static double Px(RgbImage img, int x, int y, int c) => img.Pixels[(y * img.Width + x) * 3 + c];

    static double Border(RgbImage img, int x, int y, int c) =>
        x < 0 || y < 0 || x >= img.Width || y >= img.Height ? 0 : img.Pixels[(y * img.Width + x) * 3 + c];

    static byte Round(double v) => (byte)Math.Clamp((int)Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);
}
