using ActorFace.Model.Data;
using SkiaSharp;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Tests.Data;

namespace ActorFace.Model.Tests.Formats.Images;

public class DecodeTests
{
    [Fact]
    public void GreyAndRgbaImagesBecomeRgb()
    {
        var grey = ImageCodec.DecodeRgb112(TestImages.Png(112, 112, SKColorType.Gray8, 77), "grey.png", null);
        Assert.All(grey, v => Assert.Equal(77, v));
        var rgba = ImageCodec.DecodeRgb112(TestImages.Png(112, 112, SKColorType.Rgba8888, 200), "rgba.png", null);
        Assert.All(rgba, v => Assert.Equal(200, v)); // alpha dropped, colour not blended
    }

    [Fact]
    public void OtherSizesAreResizedAndCounted()
    {
        long before = ImageCodec.ResizedCount;
        var rgb = ImageCodec.DecodeRgb112(TestImages.Png(224, 160, SKColorType.Gray8, 90), "big.png", 4);
        Assert.Equal(FaceSample.ByteCount, rgb.Length);
        Assert.All(rgb, v => Assert.Equal(90, v));
        Assert.True(ImageCodec.ResizedCount > before);
    }

    [Fact]
    public void JpegRoundTripIsClose()
    {
        var src = new byte[FaceSample.ByteCount];
        for (int i = 0; i < src.Length; i++) src[i] = (byte)(100 + (i / 3 % 112) / 4);
        var back = ImageCodec.DecodeRgb112(ImageCodec.EncodeJpeg(src, 112, 112, 95), "mem", null);
        double mae = src.Zip(back, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mae < 2.0, $"mean abs error {mae}");
    }
}
