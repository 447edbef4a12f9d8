using ActorFace.Model.Backbones;
using ActorFace.Model.Evaluation;
using ActorFace.Model.Export.Onnx;
using ActorFace.Tests;
using Microsoft.ML.OnnxRuntime;
using TorchSharp.Modules;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Images;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Export;

/// <summary>
/// Exported ONNX models run in ONNX Runtime give the TorchSharp embeddings on real CelebA faces, batch 1 and 7:
/// r18 and vit_t with the reference's seed-0 weights, mbf with seeded weights and non-trivial BN statistics.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output) : IDisposable
{
    const double Tolerance = 1e-4;
    readonly TempDirectory dir = new("actorface-onnx-");

    public void Dispose() => dir.Dispose();

    static List<RgbImage> Faces(int count) =>
        Directory.GetDirectories(SharedPaths.Data("celeba-subset-112")).Order(StringComparer.Ordinal)
            .Select(d => Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).First())
            .Take(count).Select(ImageCodec.DecodeFile).ToList();

    static nn.Module<Tensor, Tensor> Backbone(string network)
    {
        manual_seed(0);
        var model = BackboneFactory.Create(network);
        if (network == "r18") StateDictFile.Load(model, SharedPaths.Golden("r18_seed0.pth"));
        else if (network == "vit_t") StateDictFile.Load(model, SharedPaths.Golden("vit_t_seed0.pth"));
        else
        {
            // Freshly initialised BN statistics are 0 / 1; random ones make the exported BN nodes matter.
            using var _ = no_grad();
            foreach (var m in model.modules().OfType<BatchNorm>())
            {
                m.running_mean!.copy_(randn(m.running_mean.shape) * 0.1);
                m.running_var!.copy_(rand(m.running_var.shape) + 0.5);
                m.bias!.copy_(randn(m.bias.shape) * 0.1);
            }
        }
        model.eval();
        return model;
    }

    static double WorstRowError(float[][] actual, float[][] expected) =>
        actual.Zip(expected, (a, e) => RowError(a, e)).Max();

    static double RowError(float[] a, float[] e)
    {
        double scale = 0, err = 0;
        for (var i = 0; i < e.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(e[i]));
            err = Math.Max(err, Math.Abs((double)a[i] - e[i]));
        }
        return err / scale;
    }

    [ReferenceTheory("data/celeba-subset-112", "golden/r18_seed0.pth", "golden/vit_t_seed0.pth")]
    [InlineData("r18", 17)]
    [InlineData("mbf", 17)]
    [InlineData("mbf_large", 13)]
    [InlineData("vit_t", 17)]
    [InlineData("vit_t", 13)]
    public void OnnxRuntimeMatchesTorchSharpOnRealFacesAtBatch1And7(string network, int opset)
    {
        using var model = Backbone(network);
        var path = Path.Combine(dir, $"{network}.onnx");
        OnnxExporter.Export(model, network, path, new OnnxExportOptions(opset));
        var faces = Faces(7);
        using var torchEmbedder = new TorchFaceEmbedder(model, batchSize: 7);
        var expected = torchEmbedder.Embed(faces);
        foreach (var batch in new[] { 1, 7 })
        {
            using var onnx = new OnnxFaceEmbedder(path, OnnxPreprocessing.InsightFace, batchSize: batch);
            Assert.Null(onnx.FixedBatch);
            var actual = onnx.Embed(faces);
            Assert.All(actual, row => Assert.Equal(512, row.Length));
            var error = WorstRowError(actual, expected);
            output.WriteLine($"{network} opset {opset} batch {batch}: max |onnx - torch| / max |torch| = {error:E3}");
            Assert.True(error < Tolerance, $"{network} batch {batch}: relative error {error:E3}");
        }
    }

    [ReferenceFact("data/celeba-subset-112")]
    public void FixedBatchExportDeclaresItsBatchAndRuns()
    {
        using var model = Backbone("mbf");
        var path = Path.Combine(dir, "mbf_b7.onnx");
        OnnxExporter.Export(model, "mbf", path, new OnnxExportOptions(Batch: 7));
        using (var session = new InferenceSession(path))
        {
            Assert.Equal([7, 3, 112, 112], session.InputMetadata[OnnxExporter.InputName].Dimensions);
            Assert.Equal([7, 512], session.OutputMetadata[OnnxExporter.OutputName].Dimensions);
        }
        using var onnx = new OnnxFaceEmbedder(path);
        Assert.Equal(7, onnx.FixedBatch);
        using var torchEmbedder = new TorchFaceEmbedder(model);
        var faces = Faces(7);
        Assert.True(WorstRowError(onnx.Embed(faces), torchEmbedder.Embed(faces)) < Tolerance);
    }

    [ReferenceFact("data/celeba-subset-112")]
    public void LargeModelsKeepTheirWeightsInAnExternalDataFile()
    {
        // vit_h's ~3 GB of weights exceed protobuf's 2 GiB limit; a 1 MiB threshold exercises the same path on mbf.
        using var model = Backbone("mbf");
        var path = Path.Combine(dir, "mbf_external.onnx");
        var data = OnnxExporter.Export(model, "mbf", path, new OnnxExportOptions(), externalThresholdBytes: 1 << 20);
        Assert.Equal(path + ".data", data);
        Assert.True(new FileInfo(path).Length < 200_000, $"model file is {new FileInfo(path).Length} bytes");
        Assert.True(new FileInfo(data).Length > 4_000_000);
        var faces = Faces(3);
        using var onnx = new OnnxFaceEmbedder(path, batchSize: 3);
        using var torchEmbedder = new TorchFaceEmbedder(model);
        Assert.True(WorstRowError(onnx.Embed(faces), torchEmbedder.Embed(faces)) < Tolerance);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [ReferenceFact("golden/vit_t_seed0.pth")]
    public void DynamicBatchAndOpsetAreDeclared()
    {
        using var model = Backbone("vit_t");
        var built = OnnxExporter.Build(model, "vit_t", new OnnxExportOptions(13));
        Assert.Equal("batch", built.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(13, built.OpsetImport.Single().Version);
        Assert.DoesNotContain(built.Graph.Node, n => n.OpType == "LayerNormalization");
        Assert.Contains(built.Graph.Initializer, t => t.Name == "blocks.0.attn.proj.bias");
        var v17 = OnnxExporter.Build(model, "vit_t", new OnnxExportOptions(17));
        Assert.Equal(25, v17.Graph.Node.Count(n => n.OpType == "LayerNormalization"));
        Assert.Throws<ArgumentException>(() => OnnxExporter.Build(model, "vit_t", new OnnxExportOptions(12)));
    }
}
