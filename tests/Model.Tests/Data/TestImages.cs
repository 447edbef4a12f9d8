using ActorFace.Model.Data;
using SkiaSharp;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Data;

static class TestImages
{
    public static byte[] Rgb(int w, int h, int seed)
    {
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)((i * 7 + seed * 31 + i / (w * 3) * 5) & 0xFF);
        return rgb;
    }

    public static byte[] Jpeg(int w = 112, int h = 112, int seed = 0) => ImageCodec.EncodeJpeg(Rgb(w, h, seed), w, h);

    /// <summary>Encodes with an explicit Skia colour type (grey or RGBA) as PNG.</summary>
    public static byte[] Png(int w, int h, SKColorType type, byte value)
    {
        var info = new SKImageInfo(w, h, type, type == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = value;
        if (type == SKColorType.Rgba8888)
            for (int i = 3; i < pixels.Length; i += 4) pixels[i] = 128; // half transparent: alpha must be dropped, not applied
        using var bmp = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bmp.GetPixels(), pixels.Length);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
