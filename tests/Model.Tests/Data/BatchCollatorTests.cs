using ActorFace.Model.Data;
using TorchSharp;

namespace ActorFace.Model.Tests.Data;

public class BatchCollatorTests
{
    [Fact]
    public void NormalisesToMinusOneOneInChwWithInt64Labels()
    {
        var a = new byte[FaceSample.ByteCount];
        for (int x = 0; x < 112; x++) { a[x * 3] = 0; a[x * 3 + 1] = 255; a[x * 3 + 2] = (byte)x; }
        var b = new byte[FaceSample.ByteCount];
        using var batch = BatchCollator.Collate([new FaceSample(a, 3), new FaceSample(b, 9)], [false, false]);
        Assert.Equal([2L, 3, 112, 112], batch.Images.shape);
        Assert.Equal(torch.ScalarType.Float32, batch.Images.dtype);
        Assert.Equal(torch.ScalarType.Int64, batch.Labels.dtype);
        Assert.Equal([3L, 9], batch.Labels.data<long>().ToArray());
        Assert.Equal(-1f, batch.Images[0, 0, 0, 5].item<float>());
        Assert.Equal(1f, batch.Images[0, 1, 0, 5].item<float>());
        Assert.Equal((10 / 255f - 0.5f) / 0.5f, batch.Images[0, 2, 0, 10].item<float>(), 6);
    }

    [Fact]
    public void FlipMirrorsTheWidthAxis()
    {
        var a = new byte[FaceSample.ByteCount];
        for (int y = 0; y < 112; y++) for (int x = 0; x < 112; x++) a[(y * 112 + x) * 3] = (byte)x;
        using var batch = BatchCollator.Collate([new FaceSample(a, 0), new FaceSample(a, 0)], [false, true]);
        Assert.True(batch.Images[1].eq(batch.Images[0].flip(2)).all().item<bool>());
        var copy = (byte[])a.Clone();
        TrainAugment.FlipHorizontalInPlace(copy);
        using var flipped = BatchCollator.Collate([new FaceSample(copy, 0)]);
        Assert.True(flipped.Images[0].eq(batch.Images[1]).all().item<bool>());
    }

    [Fact]
    public void FlipDecisionIsDeterministicAndBalanced()
    {
        var flips = Enumerable.Range(0, 10000).Select(i => TrainAugment.Flip(2048, 1, i)).ToArray();
        Assert.Equal(flips, Enumerable.Range(0, 10000).Select(i => TrainAugment.Flip(2048, 1, i)));
        Assert.InRange(flips.Count(f => f), 4700, 5300);
        Assert.NotEqual(flips, Enumerable.Range(0, 10000).Select(i => TrainAugment.Flip(2048, 2, i)));
    }
}
