using System.Text.Json;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Data;
using ActorFace.Tests;
using TorchSharp;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training.StepParity;

/// <summary>
/// One whole-step parity case: a real backbone with deterministic (formula) weights, two fixed batches of real faces,
/// deterministic Partial FC centres and sampling draws. Everything is arithmetic on indices, so this side and
/// tools/step_parity.py (which reads what <see cref="WriteInputs"/> writes) start from the same bits on any machine.
/// </summary>
public sealed record StepParityCase(string Network, string Margin, double SampleRate)
{
    public const int EmbeddingSize = 512, Classes = 16, Batches = 2, IdentitiesPerBatch = 4, ImagesPerIdentity = 2;
    public const int Steps = 10, WarmupSteps = 2, TotalSteps = 20;
    public const double Lr = 0.1, WeightDecay = 5e-4;
    public static readonly int[] ReportSteps = [1, 10];

    public string Name => $"{Network}_{Margin}_sr{SampleRate.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture).Replace(".", "")}";

    /// <summary>arcface_torch's margin_list: CosFace (1, 0, 0.4) as the CPU job, ArcFace (1, 0.5, 0).</summary>
    public double[] MarginList => Margin switch
    {
        "cosface" => [1.0, 0.0, 0.4],
        "arcface" => [1.0, 0.5, 0.0],
        _ => throw new ArgumentException($"unknown margin {Margin}"),
    };

    /// <summary>u(i, j) in [-1, 1]: the same integer formula as the golden r18 input, salted by the entry index.</summary>
    static float[] Formula(long count, long salt)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++) v[i] = (float)((((i * 7919 + salt * 104729) % 2001) - 1000) / 1000.0);
        return v;
    }

    /// <summary>Overwrites every floating state_dict entry: weights uniform with variance 1/fan_in, norm/PReLU
    /// weights in [0.25, 0.75], biases and running means small, running variances in [0.9, 1.1].</summary>
    public nn.Module<Tensor, Tensor> Backbone()
    {
        var backbone = BackboneFactory.Create(Network, EmbeddingSize);
        using var noGrad = torch.no_grad();
        var entries = StateDictEntries.Of(backbone);
        for (var j = 0; j < entries.Count; j++)
        {
            var (key, t) = (entries[j].Key, entries[j].Tensor);
            if (!t.is_floating_point()) continue;
            using var u = torch.tensor(Formula(t.numel(), j + 1)).reshape(t.shape);
            using var value = t.dim() >= 2 ? u * Math.Sqrt(3.0 * t.shape[0] / t.numel())
                : key.EndsWith("running_var") ? 1 + 0.1 * u
                : key.EndsWith("running_mean") || key.EndsWith("bias") ? 0.05 * u
                : 0.5 + 0.25 * u;
            t.copy_(value);
        }
        return backbone;
    }

    public static Tensor Centres() => torch.tensor(Formula((long)Classes * EmbeddingSize, 7)).reshape(Classes, EmbeddingSize).mul_(0.01 * Math.Sqrt(3));

    /// <summary>Step s draws a permutation of distinct values (no ties in Partial FC's top-k).</summary>
    public static float[][] Draws() => Enumerable.Range(0, Steps)
        .Select(s => Enumerable.Range(0, Classes).Select(c => (float)(((c * 37 + s * 11) % 101) / 101.0)).ToArray()).ToArray();

    /// <summary>Batch b: identities 4b..4b+3 of the CelebA subset (ordinal order), two images each; label = identity.</summary>
    public static (Tensor Images, Tensor Labels)[] RealBatches()
    {
        var identities = Directory.GetDirectories(SharedPaths.Data("celeba-subset-112")).Order(StringComparer.Ordinal).ToArray();
        return Enumerable.Range(0, Batches).Select(b =>
        {
            var samples = new List<FaceSample>();
            for (var k = 0; k < IdentitiesPerBatch; k++)
            {
                var label = b * IdentitiesPerBatch + k;
                foreach (var file in Directory.GetFiles(identities[label]).Order(StringComparer.Ordinal).Take(ImagesPerIdentity))
                    samples.Add(new FaceSample(ImageCodec.DecodeRgb112(File.ReadAllBytes(file), file, null), label));
            }
            var batch = BatchCollator.Collate(samples);
            return (batch.Images, batch.Labels);
        }).ToArray();
    }

    /// <summary>What tools/step_parity.py reads: case.json, backbone.pth, data.pth.</summary>
    public void WriteInputs(string folder, nn.Module<Tensor, Tensor> backbone, (Tensor Images, Tensor Labels)[] batches)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "case.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["name"] = Name, ["network"] = Network, ["embedding_size"] = EmbeddingSize, ["num_classes"] = Classes,
            ["margin_list"] = MarginList, ["sample_rate"] = SampleRate, ["lr"] = Lr, ["weight_decay"] = WeightDecay,
            ["warmup_steps"] = WarmupSteps, ["total_steps"] = TotalSteps, ["steps"] = Steps, ["report_steps"] = ReportSteps,
        }));
        StateDictFile.Save(backbone, Path.Combine(folder, "backbone.pth"));
        using var images = torch.stack(batches.Select(b => b.Images));
        using var labels = torch.stack(batches.Select(b => b.Labels));
        using var centres = Centres();
        using var draws = torch.tensor(Draws().SelectMany(d => d).ToArray()).reshape(Steps, Classes);
        PthArchive.Write(Path.Combine(folder, "data.pth"),
            [("images", images), ("labels", labels), ("centres", centres), ("draws", draws)], [("", 1)]);
    }
}
