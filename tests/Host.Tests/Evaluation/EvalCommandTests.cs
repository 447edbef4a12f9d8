using System.Text.Json;
using ActorFace.Tests;

namespace ActorFace.Host.Tests.Evaluation;

public class EvalCommandTests : IDisposable
{
    const string SmallLfwFile = "data/small_lfw.bin";
    const string FrFeatureFile = "data/models/fr_feature.onnx";

    readonly TempDirectory dir = new("afeval");

    public void Dispose() => dir.Dispose();

    static string Model => SharedPaths.Reference(FrFeatureFile);
    static string SmallLfw => SharedPaths.Reference(SmallLfwFile);

    [ReferenceFact(SmallLfwFile, FrFeatureFile)]
    public void EvaluatesSmallLfwWithOnnxModelAsJsonAndWritesCharts()
    {
        var png = Path.Combine(dir, "roc.png");
        var (code, output, err) = CommandRunner.Run("eval", "--bin", SmallLfw, "--onnx", Model,
            "--mean", "127", "--std", "128", "--json", "--roc", png);
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal("small_lfw", result.GetProperty("name").GetString());
        Assert.Equal(10, result.GetProperty("pairs").GetInt32());
        Assert.Equal(3.45, result.GetProperty("xnorm").GetDouble(), 0.01); // data README §4
        Assert.Equal(10, result.GetProperty("fold_thresholds").GetArrayLength());
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [ReferenceFact(SmallLfwFile, FrFeatureFile)]
    public void TextOutputHasArcfaceStyleLines()
    {
        var (code, output, err) = CommandRunner.Run("eval", "--bin", SmallLfw, "--onnx", Model, "--mean", "127", "--std", "128");
        Assert.True(code == 0, err);
        Assert.Matches(@"\[small_lfw\]XNorm: 3\.45\d{4}", output);
        Assert.Matches(@"\[small_lfw\]Accuracy-Flip: \d\.\d{5}\+-\d\.\d{5}", output);
    }

    [Fact]
    public void EvaluatesAGeneratedBinWithAnOnnxModelAsJsonAndTextAndWritesCharts()
    {
        var bin = SyntheticEvalInputs.Bin(dir);
        var model = SyntheticEvalInputs.TinyModel(dir);
        var png = Path.Combine(dir, "roc.png");
        var (code, output, err) = CommandRunner.Run("eval", "--bin", bin, "--onnx", model, "--json", "--roc", png);
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal("synthetic", result.GetProperty("name").GetString());
        Assert.Equal(20, result.GetProperty("pairs").GetInt32());
        Assert.True(result.GetProperty("xnorm").GetDouble() > 0);
        Assert.Equal(10, result.GetProperty("fold_thresholds").GetArrayLength());
        Assert.True(new FileInfo(png).Length > 1000);

        var text = CommandRunner.Run("eval", "--bin", bin, "--onnx", model);
        Assert.True(text.Code == 0, text.Err);
        Assert.Matches(@"\[synthetic\]XNorm: \d+\.\d{6}", text.Out);
        Assert.Matches(@"\[synthetic\]Accuracy-Flip: \d\.\d{5}\+-\d\.\d{5}", text.Out);
    }

    [Fact]
    public void EvaluatesWithTorchBackboneAndRefusesMismatchedWeights()
    {
        // a freshly initialised MobileFaceNet saved in PyTorch format keeps this test fast
        var weights = Path.Combine(dir, "mbf.pth");
        using (var mbf = ActorFace.Model.Backbones.BackboneFactory.Create("mbf"))
            ActorFace.Model.Backbones.StateDictFile.Save(mbf, weights);
        var bin = SyntheticEvalInputs.Bin(dir);
        var (code, output, err) = CommandRunner.Run("eval", "--bin", bin, "--network", "mbf", "--weights", weights, "--batch", "20", "--json");
        Assert.True(code == 0, err);
        var xnorm = JsonDocument.Parse(output).RootElement[0].GetProperty("xnorm").GetDouble();
        Assert.True(double.IsFinite(xnorm) && xnorm > 0);

        var wrong = CommandRunner.Run("eval", "--bin", bin, "--network", "r18", "--weights", weights);
        Assert.Equal(2, wrong.Code);
        Assert.Contains(weights, wrong.Err);
    }

    [Fact]
    public void NotAPickleIsAOneLineErrorNamingTheFile()
    {
        var fake = Path.Combine(dir, "fake.bin");
        File.WriteAllText(fake, "hello");
        var (code, _, err) = CommandRunner.Run("eval", "--bin", fake, "--onnx", SyntheticEvalInputs.TinyModel(dir));
        Assert.Equal(2, code);
        Assert.Contains(fake, err);
        Assert.Contains("not a valid pickle", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void MissingModelChoiceIsAnError()
    {
        var (code, _, err) = CommandRunner.Run("eval", "--bin", SyntheticEvalInputs.Bin(dir));
        Assert.Equal(2, code);
        Assert.Contains("--onnx", err);
    }

    [Fact]
    public void EvalIjbNamesAMissingMetaFile()
    {
        var (code, _, err) = CommandRunner.Run("eval-ijb", "--root", dir, "--target", "IJBB", "--onnx", SyntheticEvalInputs.TinyModel(dir));
        Assert.Equal(2, code);
        Assert.Contains("ijbb_face_tid_mid.txt", err);
    }
}
