using System.Text.Json;
using ActorFace.Model.Backbones;
using ActorFace.Tests;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.Evaluation;

/// <summary>`actorface export`: the exported model verifies like the backbone it came from; run-directory mode; bad input.</summary>
public sealed class ExportCommandTests(ITestOutputHelper log) : IDisposable
{
    readonly TempDirectory dir = new("actorface-export-");

    public void Dispose() => dir.Dispose();

    string SavedMbf(string path, int features = 512)
    {
        manual_seed(0);
        using var mbf = BackboneFactory.Create("mbf", features);
        // Fresh BN statistics (0 / 1) give near-zero embeddings; random ones make every exported BN node matter.
        using (no_grad())
            foreach (var bn in mbf.modules().OfType<TorchSharp.Modules.BatchNorm>())
            {
                bn.running_mean!.copy_(randn(bn.running_mean.shape) * 0.1);
                bn.running_var!.copy_(rand(bn.running_var.shape) + 0.5);
                bn.bias!.copy_(randn(bn.bias.shape) * 0.1);
            }
        StateDictFile.Save(mbf, path);
        return path;
    }

    [ReferenceFact("data/celeba-subset-112", "golden/r18_seed0.pth")]
    public void EvalOfTheExportedModelGivesTheBackbonesVerificationAccuracy()
    {
        // arcface_torch's seed-0 r18 weights (untrained, ~58 % here, fold-to-fold spread) on 60 real CelebA pairs:
        // the check compares the two paths, and 60 pairs keep CI short.
        var bin = Path.Combine(dir, "celeba60.bin");
        var made = CommandRunner.Run("make-bin", "--images", SharedPaths.Data("celeba-subset-112"), "--pairs", "60", "--out", bin, "--seed", "7");
        Assert.True(made.Code == 0, made.Err);
        var weights = SharedPaths.Golden("r18_seed0.pth");
        var onnx = Path.Combine(dir, "r18.onnx");
        var export = CommandRunner.Run("export", "--onnx", onnx, "--network", "r18", "--weights", weights);
        Assert.True(export.Code == 0, export.Err);
        Assert.Contains("(x - 127.5) / 127.5", export.Out);

        var viaTorch = CommandRunner.Run("eval", "--bin", bin, "--network", "r18", "--weights", weights, "--json");
        var viaOnnx = CommandRunner.Run("eval", "--bin", bin, "--onnx", onnx, "--json");
        Assert.True(viaTorch.Code == 0, viaTorch.Err);
        Assert.True(viaOnnx.Code == 0, viaOnnx.Err);
        var t = JsonDocument.Parse(viaTorch.Out).RootElement[0];
        var o = JsonDocument.Parse(viaOnnx.Out).RootElement[0];
        log.WriteLine($"torch: {t}\nonnx:  {o}");
        foreach (var key in new[] { "accuracy_flip", "std_flip", "accuracy", "std", "best_threshold" })
            Assert.Equal(t.GetProperty(key).GetDouble(), o.GetProperty(key).GetDouble());
        Assert.Equal(t.GetProperty("fold_accuracies").ToString(), o.GetProperty("fold_accuracies").ToString());
        var (xt, xo) = (t.GetProperty("xnorm").GetDouble(), o.GetProperty("xnorm").GetDouble());
        Assert.True(Math.Abs(xt - xo) <= 1e-4 * xt, $"xnorm {xt} vs {xo}");
    }

    [Fact]
    public void ExportsFromAConfigAndRunDirectoryWithAFixedBatch()
    {
        var run = Directory.CreateDirectory(Path.Combine(dir, "run")).FullName;
        SavedMbf(Path.Combine(run, "backbone.pth"), features: 128);
        var conf = Path.Combine(dir, "job.conf");
        File.WriteAllText(conf, "actorface {\n  network = mbf\n  embedding_size = 128\n  dataset = synthetic\n  num_classes = 10\n  num_image = 100\n}\n");
        var onnx = Path.Combine(dir, "job.onnx");
        var (code, output, err) = CommandRunner.Run("export", "--onnx", onnx, "--config", conf, "--output", run, "--batch", "2", "--opset", "13");
        Assert.True(code == 0, err);
        log.WriteLine(output);
        using var session = new InferenceSession(onnx);
        Assert.Equal([2, 3, 112, 112], session.InputMetadata["input"].Dimensions);
        Assert.Equal([2, 128], session.OutputMetadata["embedding"].Dimensions);
    }

    [Fact]
    public void BadInputIsExitCode2WithOneLineAndNoFile()
    {
        var weights = SavedMbf(Path.Combine(dir, "mbf.pth"));
        var onnx = Path.Combine(dir, "out.onnx");
        (string[] Args, string Message)[] cases =
        [
            (["--network", "r18", "--weights", weights], "state_dict does not match"),
            (["--network", "iresnet50", "--weights", weights], "unknown network 'iresnet50'"),
            (["--network", "mbf"], "--network NAME --weights FILE.pth"),
            (["--network", "mbf", "--weights", Path.Combine(dir, "none.pth")], "file not found"),
            (["--network", "mbf", "--weights", weights, "--opset", "11"], "--opset 11"),
            (["--network", "mbf", "--weights", weights, "--batch", "0"], "--batch must be positive"),
            (["--config", Path.Combine(dir, "none.conf")], "none.conf"),
        ];
        foreach (var (args, message) in cases)
        {
            var (code, _, err) = CommandRunner.Run(["export", "--onnx", onnx, .. args]);
            Assert.Equal(2, code);
            Assert.Contains(message, err);
            Assert.DoesNotContain("   at ", err);
            Assert.False(File.Exists(onnx), $"{string.Join(' ', args)} left {onnx}");
        }
    }
}
