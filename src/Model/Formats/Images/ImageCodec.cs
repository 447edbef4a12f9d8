using System.Buffers;
using ActorFace.Model.Data;
using SkiaSharp;

namespace ActorFace.Model.Formats.Images;

/// <summary>
/// The one image codec: SkiaSharp decodes through libjpeg-turbo with OpenCV imdecode's defaults (ISLOW IDCT, fancy
/// upsampling), so pixels match the reference. Grey images are expanded to RGB and alpha is dropped (like PIL's
/// convert("RGB")). Training input is decoded straight into a 112x112 buffer (other sizes are scaled so the shorter
/// side is 112 and centre-cropped, with one warning per process and a counter); evaluation input keeps its size.
/// </summary>
public static class ImageCodec
{
    /// <summary>Largest image (pixels) decoded: the size comes from the header, so a crafted one is refused before
    /// any allocation. Face photos are far smaller.</summary>
    public const long MaxPixels = 64L << 20;

    /// <summary>Largest image file read (bytes): a 32-megapixel PNG fits; anything bigger is not a face photo.</summary>
    public const long MaxFileBytes = 128L << 20;

    const int S = FaceSample.Size;
    static long resized;

    /// <summary>How many decoded training images were not 112x112 and had to be resized.</summary>
    public static long ResizedCount => Interlocked.Read(ref resized);

    public static byte[] DecodeRgb112(ReadOnlySpan<byte> encoded, string file, long? record)
    {
        var rgb = new byte[FaceSample.ByteCount];
        DecodeRgb112(encoded, rgb, file, record);
        return rgb;
    }

    /// <summary>Decodes a training image into <paramref name="rgb"/> (112x112x3); bad input is a
    /// <see cref="DataFormatException"/> naming the file and record.</summary>
    public static unsafe void DecodeRgb112(ReadOnlySpan<byte> encoded, Span<byte> rgb, string file, long? record)
    {
        if (encoded.IsEmpty) throw new DataFormatException(file, record, "empty image body");
        // A truncated training image is corrupt data and fails; evaluation decodes what is there, as OpenCV's
        // imdecode (the reference's reader) does.
        var decoded = DecodeRgba(encoded, acceptTruncated: false, message => new DataFormatException(file, record, message));
        try
        {
            var (info, rgba) = decoded;
            if (info.Width == S && info.Height == S)
            {
                RgbaToRgb(rgba.AsSpan(0, S * S * 4), rgb);
                return;
            }
            if (Interlocked.Increment(ref resized) == 1)
                DataLog.Warn($"{file}{(record is { } r ? $" record {r}" : "")}: image is {info.Width}x{info.Height}, " +
                             "not 112x112; resizing (shorter side to 112, centre crop). Further resizes are only counted.");
            fixed (byte* p = rgba)
                ResizeCrop(info, (IntPtr)p, rgb);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded.Rgba);
        }
    }

    /// <summary>Decodes an image of any size; bad input is an <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static RgbImage Decode(byte[] encoded, string what)
    {
        var (info, rgba) = DecodeRgba(encoded, acceptTruncated: true, message => new InvalidDataException($"{what}: {message}"));
        try
        {
            var rgb = new byte[info.Width * info.Height * 3];
            RgbaToRgb(rgba.AsSpan(0, info.Width * info.Height * 4), rgb);
            return new RgbImage(info.Width, info.Height, rgb);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    public static RgbImage DecodeFile(string path)
    {
        // Regular files only: a FIFO would block the read forever and /dev/zero would fill the memory.
        var bytes = RegularFile.ReadAllBytes(path, "image", MaxFileBytes);
        return Decode(bytes, path);
    }

    /// <summary>JPEG-encodes an HWC RGB image (4:2:0, as the writers of RecordIO packs and .bin files do).</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> rgb, int width, int height, int quality = 95) =>
        Encode(rgb, width, height, SKEncodedImageFormat.Jpeg, quality);

    /// <summary>Encodes as JPEG (4:2:0) or PNG; used by make-bin, the pack writer and test fixtures.</summary>
    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality = 95) =>
        Encode(image.Pixels, image.Width, image.Height, format, quality);

    static unsafe byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height, SKEncodedImageFormat format, int quality)
    {
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"expected {width * height * 3} RGB bytes, got {rgb.Length}");
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
            using var data = (format == SKEncodedImageFormat.Jpeg
                    ? pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))
                    : pixmap.Encode(format, quality))
                ?? throw new InvalidOperationException($"SkiaSharp {format} encoding failed");
            return data.ToArray();
        }
    }

    /// <summary>Decodes to RGBA in a pooled buffer (the caller returns it to <see cref="ArrayPool{T}.Shared"/>).</summary>
    static unsafe (SKImageInfo Info, byte[] Rgba) DecodeRgba(ReadOnlySpan<byte> encoded, bool acceptTruncated,
        Func<string, Exception> bad)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw bad($"undecodable image ({encoded.Length} bytes, unknown or corrupt format)");
        var (w, h) = (codec.Info.Width, codec.Info.Height);
        if (w <= 0 || h <= 0 || (long)w * h > MaxPixels)
            throw bad($"image header declares {w}x{h} pixels (limit {MaxPixels >> 20} Mi pixels; corrupt or crafted file)");
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = ArrayPool<byte>.Shared.Rent(w * h * 4);
        SKCodecResult result;
        fixed (byte* p = rgba)
            result = codec.GetPixels(info, (IntPtr)p);
        if (result == SKCodecResult.Success || (result == SKCodecResult.IncompleteInput && acceptTruncated))
            return (info, rgba);
        ArrayPool<byte>.Shared.Return(rgba);
        throw bad($"image decode failed: {result} ({encoded.Length} bytes, {w}x{h})");
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
}
