using System.Buffers;
using SkiaSharp;
using ActorFace.Model.Data;

namespace ActorFace.Model.Formats.Images;

/// <summary>
/// Image decoding (SkiaSharp, libjpeg-turbo) to 112x112 RGB, and JPEG encoding for the writers.
/// Grey images are expanded to RGB and alpha is dropped (like PIL's convert("RGB")). Images of another size are
/// scaled so the shorter side is 112 and centre-cropped, with one warning per process and a counter.
/// </summary>
public static class ImageCodec
{
    const int S = FaceSample.Size;
    static long resized;

    /// <summary>How many decoded images were not 112x112 and had to be resized.</summary>
    public static long ResizedCount => Interlocked.Read(ref resized);

    public static byte[] DecodeRgb112(ReadOnlySpan<byte> encoded, string file, long? record)
    {
        var rgb = new byte[FaceSample.ByteCount];
        DecodeRgb112(encoded, rgb, file, record);
        return rgb;
    }

    public static unsafe void DecodeRgb112(ReadOnlySpan<byte> encoded, Span<byte> rgb, string file, long? record)
    {
        if (encoded.IsEmpty) throw new DataFormatException(file, record, "empty image body");
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new DataFormatException(file, record, $"undecodable image ({encoded.Length} bytes, unknown or corrupt format)");
        var (w, h) = (codec.Info.Width, codec.Info.Height);
        if (w <= 0 || h <= 0 || (long)w * h > 64L << 20)
            throw new DataFormatException(file, record, $"unusable image size {w}x{h}");
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = ArrayPool<byte>.Shared.Rent(w * h * 4);
        try
        {
            fixed (byte* p = rgba)
            {
                var result = codec.GetPixels(info, (IntPtr)p);
                if (result != SKCodecResult.Success)
                    throw new DataFormatException(file, record, $"image decode failed: {result} ({encoded.Length} bytes, {w}x{h})");
                if (w == S && h == S)
                {
                    RgbaToRgb(rgba.AsSpan(0, S * S * 4), rgb);
                    return;
                }
                if (Interlocked.Increment(ref resized) == 1)
                    DataLog.Warn($"{file}{(record is { } r ? $" record {r}" : "")}: image is {w}x{h}, not 112x112; " +
                                 "resizing (shorter side to 112, centre crop). Further resizes are only counted.");
                ResizeCrop(info, (IntPtr)p, rgb);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    static void ResizeCrop(SKImageInfo info, IntPtr pixels, Span<byte> rgb)
    {
        double scale = (double)S / Math.Min(info.Width, info.Height);
        int nw = Math.Max(S, (int)Math.Round(info.Width * scale));
        int nh = Math.Max(S, (int)Math.Round(info.Height * scale));
        using var src = new SKPixmap(info, pixels);
        using var dst = new SKBitmap(new SKImageInfo(nw, nh, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!src.ScalePixels(dst.PeekPixels(), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
            throw new InvalidOperationException("SkiaSharp could not resize the image");
        var all = dst.GetPixelSpan();
        int x0 = (nw - S) / 2, y0 = (nh - S) / 2;
        for (int y = 0; y < S; y++)
            RgbaToRgb(all.Slice(((y0 + y) * nw + x0) * 4, S * 4), rgb.Slice(y * S * 3, S * 3));
    }

    static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int n = rgba.Length / 4;
        for (int i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3)
        {
            rgb[k] = rgba[j];
            rgb[k + 1] = rgba[j + 1];
            rgb[k + 2] = rgba[j + 2];
        }
    }

    /// <summary>JPEG-encodes an HWC RGB image.</summary>
    public static unsafe byte[] EncodeJpeg(ReadOnlySpan<byte> rgb, int width, int height, int quality = 95)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"expected {width * height * 3} RGB bytes, got {rgb.Length}");
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i];
            rgba[j + 1] = rgb[i + 1];
            rgba[j + 2] = rgb[i + 2];
            rgba[j + 3] = 255;
        }
        fixed (byte* p = rgba)
        {
            using var pixmap = new SKPixmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), (IntPtr)p);
            using var data = pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))
                ?? throw new InvalidOperationException("SkiaSharp JPEG encoding failed");
            return data.ToArray();
        }
    }
}
