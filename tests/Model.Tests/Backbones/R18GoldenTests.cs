using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Tests;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>Our r18 against arcface_torch's iresnet18 (golden outputs for the same seed-0 weights).</summary>
public class R18GoldenTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-4;

    static nn.Module<Tensor, Tensor> LoadedR18()
    {
        var model = BackboneFactory.Create("r18");
        StateDictFile.Load(model, GoldenR18.WeightsPath);
        return model;
    }

    [ReferenceFact(GoldenR18.StateDictKeysFile)]
    public void StateDictKeysShapesAndDtypesMatchPyTorch()
    {
        using var model = BackboneFactory.Create("r18");
        var ours = StateDictEntries.Of(model);
        var golden = GoldenR18.StateDictKeys.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(187, golden.Count);
        Assert.Equal(golden.Count, ours.Count);
        for (var i = 0; i < golden.Count; i++)
        {
            var g = golden[i];
            Assert.Equal(g.GetProperty("key").GetString(), ours[i].Key);
            Assert.Equal(g.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), ours[i].Tensor.shape);
            var dtype = g.GetProperty("dtype").GetString() == "int64" ? ScalarType.Int64 : ScalarType.Float32;
            Assert.Equal(dtype, ours[i].Tensor.dtype);
        }
        var parameters = model.parameters().ToList();
        Assert.Equal(GoldenR18.StateDictKeys.GetProperty("num_parameters").GetInt64(), parameters.Sum(p => p.numel()));
        Assert.Equal(GoldenR18.StateDictKeys.GetProperty("num_trainable_parameters").GetInt64(),
            parameters.Where(p => p.requires_grad).Sum(p => p.numel()));
        Assert.Equal(24_025_600, parameters.Sum(p => p.numel()));
        Assert.Equal(24_025_088, parameters.Where(p => p.requires_grad).Sum(p => p.numel()));
    }

    [Fact]
    public void InitialisationFollowsIResNet()
    {
        using var model = BackboneFactory.Create("r18");
        var sd = StateDictEntries.Of(model).ToDictionary(e => e.Key, e => e.Tensor);
        // conv weights ~ N(0, 0.1) (not Kaiming); 64·64·9 = 36,864 samples keep the std estimate within ~1 %.
        Assert.InRange(sd["layer1.0.conv1.weight"].std().item<float>(), 0.097f, 0.103f);
        Assert.InRange(sd["layer4.1.conv2.weight"].std().item<float>(), 0.099f, 0.101f);
        var bound = 1 / Math.Sqrt(25088);
        Assert.InRange(sd["fc.weight"].abs().max().item<float>(), 0.99 * bound, bound * (1 + 1e-6)); // float32 rounding of b
        Assert.InRange(sd["fc.bias"].abs().max().item<float>(), 0, bound * (1 + 1e-6));
        Assert.True(sd["prelu.weight"].eq(0.25f).all().item<bool>());
        Assert.True(sd["layer2.0.bn3.weight"].eq(1f).all().item<bool>());
        Assert.True(sd["features.weight"].eq(1f).all().item<bool>());
        Assert.False(model.named_parameters().Single(p => p.name == "features.weight").parameter.requires_grad);
        Assert.True(model.named_parameters().Single(p => p.name == "features.bias").parameter.requires_grad);
    }

    [ReferenceFact(GoldenR18.WeightsFile, GoldenR18.StateDictKeysFile)]
    public void LoadsGoldenWeightsExactly()
    {
        using var model = LoadedR18();
        var sd = StateDictEntries.Of(model).ToDictionary(e => e.Key, e => e.Tensor);
        foreach (var g in GoldenR18.StateDictKeys.GetProperty("entries").EnumerateArray())
        {
            var t = sd[g.GetProperty("key").GetString()!];
            var first = GoldenR18.Floats(g.GetProperty("first4"));
            var ours = t.flatten().to(ScalarType.Float64).data<double>().Take(first.Length).Select(v => (float)v).ToArray();
            Assert.Equal(first, ours);
            var sum = t.to(ScalarType.Float64).sum().item<double>();
            Assert.Equal(g.GetProperty("sum").GetDouble(), sum, 1e-6 * Math.Max(1, Math.Abs(sum)));
        }
    }

    [ReferenceFact(GoldenR18.WeightsFile, GoldenR18.ForwardFile)]
    public void EvalForwardMatchesPyTorch()
    {
        using var model = LoadedR18();
        model.eval();
        using var x = GoldenR18.Input(2);
        Assert.Equal(GoldenR18.Forward.GetProperty("input_sum").GetDouble(), x.to(ScalarType.Float64).sum().item<double>(), 1e-9);
        using var _ = no_grad();
        using var y = model.call(x);
        Assert.Equal([2L, 512L], y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        var golden = GoldenR18.Matrix(GoldenR18.Forward.GetProperty("output_eval"));
        var worst = 0.0;
        for (var b = 0; b < 2; b++)
        {
            var row = Enumerable.Range(0, 512).Select(j => golden[b, j]).ToArray();
            worst = Math.Max(worst, GoldenR18.NormalisedError(y[b].data<float>().ToArray(), row));
        }
        output.WriteLine($"r18 eval forward: max |ours - torch| / max |torch| = {worst:E3}");
        Assert.True(worst < Tolerance, $"eval output error {worst:E3} exceeds {Tolerance}");
    }

    [ReferenceFact(GoldenR18.WeightsFile, GoldenR18.ForwardFile)]
    public void TrainForwardBackwardAndRunningStatsMatchPyTorch()
    {
        using var model = LoadedR18();
        model.train();
        using var x = GoldenR18.Input(4);
        using var y = model.call(x);
        var golden = GoldenR18.Matrix(GoldenR18.Forward.GetProperty("output_train_mode_batch4"));
        var worstOut = 0.0;
        for (var b = 0; b < 4; b++)
        {
            var row = Enumerable.Range(0, 512).Select(j => golden[b, j]).ToArray();
            worstOut = Math.Max(worstOut, GoldenR18.NormalisedError(y[b].detach().data<float>().ToArray(), row));
        }

        // train_loss = sum(out * P) / 4 with P[b, j] = f32((((b*512 + j)*31) % 17 - 8) / 8)
        var p = new float[4 * 512];
        for (var i = 0; i < p.Length; i++) p[i] = (float)(((i * 31L) % 17 - 8) / 8.0);
        using var pt = tensor(p, [4, 512]);
        using var loss = (y * pt).sum() / 4;
        var lossErr = Math.Abs(loss.item<float>() - GoldenR18.Forward.GetProperty("train_loss").GetDouble());
        loss.backward();

        var named = model.named_parameters().ToDictionary(q => q.name, q => q.parameter);
        var worstGrad = 0.0;
        foreach (var g in GoldenR18.Forward.GetProperty("train_grad_stats").EnumerateObject())
        {
            // fc.bias and layer4.1.bn3.bias feed a train-mode BatchNorm: their true gradient is 0, golden is noise.
            if (g.Name is "fc.bias" or "layer4.1.bn3.bias")
            {
                Assert.True(named[g.Name].grad!.abs().max().item<float>() < 1e-5, $"{g.Name} gradient should be ~0");
                continue;
            }
            var first = GoldenR18.Floats(g.Value.GetProperty("first8"));
            var ours = named[g.Name].grad!.flatten().data<float>().Take(first.Length).ToArray();
            var e = GoldenR18.NormalisedError(ours, first);
            output.WriteLine($"  grad {g.Name}: normalised error {e:E3}");
            worstGrad = Math.Max(worstGrad, e);
        }

        var sd = StateDictEntries.Of(model).ToDictionary(e => e.Key, e => e.Tensor);
        var running = GoldenR18.Forward.GetProperty("bn_running_after_train_forward");
        var meanErr = GoldenR18.NormalisedError(sd["bn1.running_mean"].data<float>().Take(8).ToArray(), GoldenR18.Floats(running.GetProperty("running_mean_first8")));
        var varErr = GoldenR18.NormalisedError(sd["bn1.running_var"].data<float>().Take(8).ToArray(), GoldenR18.Floats(running.GetProperty("running_var_first8")));
        var featErr = GoldenR18.NormalisedError(sd["features.running_var"].data<float>().Take(8).ToArray(), GoldenR18.Floats(running.GetProperty("features_running_var_first8")));
        Assert.Equal(1L, sd["bn1.num_batches_tracked"].item<long>());

        output.WriteLine($"r18 train forward (batch 4): output {worstOut:E3}, loss abs {lossErr:E3}, grads {worstGrad:E3}, " +
                         $"bn1 running mean {meanErr:E3} var {varErr:E3}, features running var {featErr:E3}");
        Assert.True(worstOut < Tolerance, $"train output error {worstOut:E3}");
        Assert.True(lossErr < 1e-4, $"train loss error {lossErr:E3}");
        Assert.True(worstGrad < 1e-3, $"gradient error {worstGrad:E3}");
        Assert.True(meanErr < Tolerance && varErr < Tolerance && featErr < Tolerance, "running statistics differ");
    }
}
