using SkiaSharp;

namespace ActorFace.Model.Formats.Images;

/// <summary>
/// Decodes encoded images (JPEG, PNG, ...) to RGB with SkiaSharp. Skia decodes JPEG through libjpeg-turbo
/// with the same defaults as OpenCV's imdecode (ISLOW IDCT, fancy upsampling), so pixels match the reference.
/// </summary>
public static class FaceImageCodec
{
    /// <summary>Largest image (pixels) decoded; face photos are far smaller.</summary>
    public const long MaxPixels = 32_000_000;

    /// <summary>Largest image file read (bytes): a 32-megapixel PNG fits; anything bigger is not a face photo.</summary>
    public const long MaxFileBytes = 128L << 20;

    public static RgbImage Decode(byte[] encoded, string what)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException($"{what}: not a decodable image ({encoded.Length} bytes)");
        // The size comes from the image header: bound it before allocating the bitmap (a corrupt or crafted header
        // would otherwise allocate and decode gigapixels).
        if ((long)codec.Info.Width * codec.Info.Height > MaxPixels || codec.Info.Width <= 0 || codec.Info.Height <= 0)
            throw new InvalidDataException($"{what}: image header declares {codec.Info.Width}x{codec.Info.Height} pixels (limit {MaxPixels / 1_000_000} MP; corrupt or crafted file)");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success && result != SKCodecResult.IncompleteInput)
            throw new InvalidDataException($"{what}: image decoding failed ({result})");
        return FromRgba(bitmap.GetPixelSpan(), info.Width, info.Height);
    }

    public static RgbImage DecodeFile(string path)
    {
        // Regular files only: a FIFO would block the read forever and /dev/zero would fill the memory.
        var bytes = ActorFace.Model.Formats.RegularFile.ReadAllBytes(path, "image", MaxFileBytes);
        return Decode(bytes, path);
    }

    static RgbImage FromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>Encodes as JPEG (quality 95) or PNG by the file extension; used by fixtures and make-bin tests.</summary>
    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality = 95)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var px = image.Pixels;
        unsafe
        {
            byte* dst = (byte*)bitmap.GetPixels();
            for (int i = 0, j = 0; j < px.Length; i += 4, j += 3)
            {
                dst[i] = px[j]; dst[i + 1] = px[j + 1]; dst[i + 2] = px[j + 2]; dst[i + 3] = 255;
            }
        }
        using var img = SKImage.FromBitmap(bitmap);
        using var data = img.Encode(format, quality);
        return data.ToArray();
    }
}
