using System.Text.Json;
using ActorFace.Tests;

namespace ActorFace.Host.Tests.Evaluation;

public class EvalCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("afeval").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    static string Model => SharedPaths.Data("models/fr_feature.onnx");

    [Fact]
    public void EvaluatesSmallLfwWithOnnxModelAsJsonAndWritesCharts()
    {
        var png = Path.Combine(dir, "roc.png");
        var (code, output, err) = CommandRunner.Run("eval", "--bin", SharedPaths.Data("small_lfw.bin"), "--onnx", Model,
            "--mean", "127", "--std", "128", "--json", "--roc", png);
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal("small_lfw", result.GetProperty("name").GetString());
        Assert.Equal(10, result.GetProperty("pairs").GetInt32());
        Assert.Equal(3.45, result.GetProperty("xnorm").GetDouble(), 0.01); // data README §4
        Assert.Equal(10, result.GetProperty("fold_thresholds").GetArrayLength());
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void TextOutputHasArcfaceStyleLines()
    {
        var (code, output, err) = CommandRunner.Run("eval", "--bin", SharedPaths.Data("small_lfw.bin"), "--onnx", Model, "--mean", "127", "--std", "128");
        Assert.True(code == 0, err);
        Assert.Matches(@"\[small_lfw\]XNorm: 3\.45\d{4}", output);
        Assert.Matches(@"\[small_lfw\]Accuracy-Flip: \d\.\d{5}\+-\d\.\d{5}", output);
    }

    [Fact]
    public void EvaluatesWithTorchBackboneAndRefusesMismatchedWeights()
    {
        // a freshly initialised MobileFaceNet saved in PyTorch format keeps this test fast
        var weights = Path.Combine(dir, "mbf.pth");
        using (var mbf = ActorFace.Model.Backbones.BackboneFactory.Create("mbf"))
            ActorFace.Model.Backbones.StateDictFile.Save(mbf, weights);
        var (code, output, err) = CommandRunner.Run("eval", "--bin", SharedPaths.Data("small_lfw.bin"), "--network", "mbf", "--weights", weights, "--batch", "20", "--json");
        Assert.True(code == 0, err);
        var xnorm = JsonDocument.Parse(output).RootElement[0].GetProperty("xnorm").GetDouble();
        Assert.True(double.IsFinite(xnorm) && xnorm > 0);

        var wrong = CommandRunner.Run("eval", "--bin", SharedPaths.Data("small_lfw.bin"), "--network", "r18", "--weights", weights);
        Assert.Equal(2, wrong.Code);
        Assert.Contains(weights, wrong.Err);
    }

    [Fact]
    public void NotAPickleIsAOneLineErrorNamingTheFile()
    {
        var fake = Path.Combine(dir, "fake.bin");
        File.WriteAllText(fake, "hello");
        var (code, _, err) = CommandRunner.Run("eval", "--bin", fake, "--onnx", Model);
        Assert.Equal(2, code);
        Assert.Contains(fake, err);
        Assert.Contains("not a valid pickle", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void MissingModelChoiceIsAnError()
    {
        var (code, _, err) = CommandRunner.Run("eval", "--bin", SharedPaths.Data("small_lfw.bin"));
        Assert.Equal(2, code);
        Assert.Contains("--onnx", err);
    }

    [Fact]
    public void EvalIjbNamesAMissingMetaFile()
    {
        var (code, _, err) = CommandRunner.Run("eval-ijb", "--root", dir, "--target", "IJBB", "--onnx", Model);
        Assert.Equal(2, code);
        Assert.Contains("ijbb_face_tid_mid.txt", err);
    }
}
