using ActorFace.Model.Evaluation;
using SkiaSharp;
using TorchSharp;
using ActorFace.Model.Formats.Images;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Evaluation;

public class VerificationCallbackTests : IDisposable
{
    readonly TempDirectory dir = new("afcb");

    public void Dispose() => dir.Dispose();

    /// <summary>20 pairs; "same" pairs are two images of one colour, "different" pairs two colours.</summary>
    void WriteBin(string name)
    {
        var images = new List<byte[]>();
        var same = new List<bool>();
        for (int p = 0; p < 20; p++)
        {
            bool s = p % 2 == 0;
            byte c1 = (byte)(p * 12), c2 = s ? c1 : (byte)(255 - p * 12);
            images.Add(ImageCodec.Encode(FaceFixtures.Solid(c1, 40, 200, 2 * p + 1), SKEncodedImageFormat.Png));
            images.Add(ImageCodec.Encode(FaceFixtures.Solid(c2, 40, 200, 2 * p + 2), SKEncodedImageFormat.Png));
            same.Add(s);
        }
        new VerificationBin(name, images, same).Save(Path.Combine(dir, name + ".bin"));
    }

    [Fact]
    public void LogsLikeArcfaceTorchKeepsHighestAndRestoresTrainMode()
    {
        WriteBin("tiny");
        var lines = new List<string>();
        var scalars = new List<(string, double, int)>();
        var callback = new VerificationCallback(frequent: 5, new[] { "tiny", "absent" }, dir, lines.Add);
        callback.Scalar += (n, a, s) => scalars.Add((n, a, s));
        Assert.Equal(new[] { "tiny" }, callback.Targets);
        Assert.Contains(lines, l => l.Contains("absent") && l.Contains("skipped"));

        using var _ = torch.NewDisposeScope();
        torch.manual_seed(0);
        var model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 112 * 112, 8));
        model.train();
        Assert.Empty(callback.Call(3, model));  // not a multiple of 5
        Assert.Empty(callback.Call(0, model));  // step 0 never evaluates
        lines.Clear();
        var results = callback.Call(10, model);
        Assert.True(model.training);
        var r = Assert.Single(results);
        Assert.Equal(20, r.Pairs);
        Assert.Equal(3, lines.Count);
        Assert.StartsWith("[tiny][10]XNorm: ", lines[0]);
        Assert.StartsWith("[tiny][10]Accuracy-Flip: ", lines[1]);
        Assert.Equal($"[tiny][10]Accuracy-Highest: {r.Flip.Accuracy:F5}", lines[2]);
        Assert.Equal(("tiny", r.Flip.Accuracy, 10), Assert.Single(scalars));
        Assert.Equal(r.Flip.Accuracy, callback.HighestAccuracy["tiny"]);
    }

    [Fact]
    public void TorchEmbedderMatchesDirectForwardOnNormalisedInput()
    {
        using var _ = torch.NewDisposeScope();
        torch.manual_seed(1);
        var model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 112 * 112, 4));
        var face = FaceFixtures.Solid(10, 128, 255);
        var rows = new TorchFaceEmbedder(model, batchSize: 1).Embed(new[] { face, face.FlipHorizontal() });
        // (x/255 − 0.5)/0.5 of the three channel values, laid out CHW
        var input = torch.cat(new[] { 10f, 128f, 255f }.Select(v => torch.full(1, 1, 112, 112, (v / 255f - 0.5f) / 0.5f)).ToArray(), 1);
        var expected = model.forward(input).data<float>().ToArray();
        Assert.Equal(expected, rows[0]);
        Assert.Equal(rows[0], rows[1]); // a solid image is its own mirror
    }
}
