using System.Text.Json;
using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Host.Tests.Evaluation;

public class MakeBinAndEmbedCommandTests : IDisposable
{
    readonly TempDirectory dir = new("afcmd");

    public void Dispose() => dir.Dispose();

    static RgbImage Face(int seed, int w = 112, int h = 112) => SyntheticEvalInputs.Face(seed, w, h);

    [Fact]
    public void MakeBinWritesALoadableBin()
    {
        var root = Path.Combine(dir, "faces");
        for (int id = 0; id < 20; id++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"{id:D4}"));
            for (int k = 0; k < 4; k++)
                File.WriteAllBytes(Path.Combine(root, $"{id:D4}", $"{k}.jpg"), ImageCodec.Encode(Face(id * 4 + k), SKEncodedImageFormat.Jpeg));
        }
        var bin = Path.Combine(dir, "mine.bin");
        var (code, output, err) = CommandRunner.Run("make-bin", "--images", root, "--pairs", "20", "--out", bin, "--seed", "3", "--identity-disjoint");
        Assert.True(code == 0, err);
        Assert.Contains("20 pairs (10 same)", output);
        var loaded = VerificationBin.Load(bin);
        Assert.Equal("mine", loaded.Name);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 2 == 0), loaded.IsSame); // 10 folds of (same, different)

        var bad = CommandRunner.Run("make-bin", "--images", root, "--pairs", "25", "--out", bin);
        Assert.Equal(2, bad.Code);
        Assert.Contains("multiple of 20", bad.Err);
    }

    [Fact]
    public void EmbedWritesNpyMatchingJsonAndWarnsOnResize()
    {
        var imgs = Path.Combine(dir, "imgs");
        Directory.CreateDirectory(imgs);
        File.WriteAllBytes(Path.Combine(imgs, "a.png"), ImageCodec.Encode(Face(1), SKEncodedImageFormat.Png));
        File.WriteAllBytes(Path.Combine(imgs, "b.png"), ImageCodec.Encode(Face(2, 100, 120), SKEncodedImageFormat.Png));
        var model = SyntheticEvalInputs.TinyModel(dir); // the command, not a model's numbers, is under test
        var npy = Path.Combine(dir, "e.npy");

        var (code, _, err) = CommandRunner.Run("embed", "--onnx", model, "--out", npy, imgs);
        Assert.True(code == 0, err);
        Assert.Contains("b.png is 100x120, resized", err);
        var matrix = EmbeddingFiles.ReadNpy(npy);
        Assert.Equal(2, matrix.GetLength(0));
        Assert.Equal(TinyOnnxModel.BlockMaxDimensions, matrix.GetLength(1));

        var json = CommandRunner.Run("embed", "--onnx", model, "--json", imgs);
        var rows = JsonDocument.Parse(json.Out).RootElement;
        Assert.EndsWith("a.png", rows[0].GetProperty("file").GetString());
        var first = rows[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(Enumerable.Range(0, TinyOnnxModel.BlockMaxDimensions).Select(j => matrix[0, j]), first);

        var csv = Path.Combine(dir, "e.csv");
        Assert.Equal(0, CommandRunner.Run("embed", "--onnx", model, "--out", csv, "--normalize", imgs).Code);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.Equal(TinyOnnxModel.BlockMaxDimensions + 1, lines[1].Split(',').Length);
    }

    [Fact]
    public void LandmarksAlignALooseCropOntoTheTemplate()
    {
        // the face sits at (9, 17) inside a 130x140 loose crop; landmarks = template + offset → exact crop
        var face = Face(5);
        var loose = new byte[130 * 140 * 3];
        for (int y = 0; y < 112; y++) Array.Copy(face.Pixels, y * 112 * 3, loose, ((y + 17) * 130 + 9) * 3, 112 * 3);
        var crop = Path.Combine(dir, "crop.png");
        var looseFile = Path.Combine(dir, "loose.png");
        File.WriteAllBytes(crop, ImageCodec.Encode(face, SKEncodedImageFormat.Png));
        File.WriteAllBytes(looseFile, ImageCodec.Encode(new RgbImage(130, 140, loose), SKEncodedImageFormat.Png));
        var t = FaceAligner.ArcFaceTemplate;
        var marks = Path.Combine(dir, "marks.txt");
        File.WriteAllText(marks, "loose.png " + string.Join(" ", Enumerable.Range(0, 5).Select(i =>
            $"{(t[i, 0] + 9).ToString(System.Globalization.CultureInfo.InvariantCulture)} {(t[i, 1] + 17).ToString(System.Globalization.CultureInfo.InvariantCulture)}")) + " 0.99\n");
        var model = SyntheticEvalInputs.TinyModel(dir); // the command, not a model's numbers, is under test

        var direct = CommandRunner.Run("embed", "--onnx", model, "--json", crop);
        var aligned = CommandRunner.Run("embed", "--onnx", model, "--json", "--landmarks", marks, looseFile);
        Assert.True(aligned.Code == 0, aligned.Err);
        Assert.DoesNotContain("resized", aligned.Err);
        float[] Row(string json) => JsonDocument.Parse(json).RootElement[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(Row(direct.Out), Row(aligned.Out));

        var missing = CommandRunner.Run("embed", "--onnx", model, "--landmarks", marks, crop);
        Assert.Equal(2, missing.Code);
        Assert.Contains("no landmarks", missing.Err);
    }

    [Fact]
    public void UnreadableImageFailsNamingTheFile()
    {
        var broken = Path.Combine(dir, "broken.jpg");
        File.WriteAllBytes(broken, new byte[] { 0xff, 0xd8, 1, 2, 3 });
        var (code, _, err) = CommandRunner.Run("embed", "--onnx", SyntheticEvalInputs.TinyModel(dir), broken);
        Assert.Equal(2, code);
        Assert.Contains(broken, err);
    }
}
