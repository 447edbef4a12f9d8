using ActorFace.Model.Evaluation;
using ActorFace.Model.Formats.Images;
using Google.Protobuf;
using Onnx;

namespace ActorFace.Model.Tests.Evaluation;

/// <summary>The inference rewrites of <see cref="OnnxFaceEmbedder"/>: PRelu in vectorised form, batch-1 re-batching.
/// Both must leave every embedding bit-identical.</summary>
public class OnnxGraphRewriteTests : IDisposable
{
    readonly TempDirectory dir = new("afrewrite");

    public void Dispose() => dir.Dispose();

    /// <summary>[1,3,112,112] → PRelu(slope per channel) → Reshape([1,-1]) → [1, 37632], as a PyTorch batch-1 export.</summary>
    static ModelProto PReluModel(float[] slopes, long leadingShape = 1)
    {
        var graph = new GraphProto { Name = "prelu" };
        var slope = new TensorProto { Name = "slope", DataType = (int)TensorProto.Types.DataType.Float };
        slope.Dims.Add(new long[] { 3, 1, 1 });
        slope.FloatData.Add(slopes);
        var shape = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(2);
        shape.RawData = ByteString.CopyFrom(BitConverter.GetBytes(leadingShape).Concat(BitConverter.GetBytes(-1L)).ToArray());
        graph.Initializer.Add(slope);
        graph.Initializer.Add(shape);
        graph.Node.Add(Node("PRelu", "act", "p", "x", "slope"));
        graph.Node.Add(Node("Reshape", "flatten", "out", "p", "shape"));
        graph.Input.Add(Value("x", 1, 3, 112, 112));
        graph.Output.Add(Value("out", 1, 3 * 112 * 112));
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 9 });
        return model;
    }

    static NodeProto Node(string op, string name, string output, params string[] inputs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.Add(inputs);
        n.Output.Add(output);
        return n;
    }

    static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    string Save(ModelProto model)
    {
        var path = Path.Combine(dir, $"m{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    static RgbImage[] Faces(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var px = new byte[112 * 112 * 3];
            rng.NextBytes(px);
            return new RgbImage(112, 112, px);
        }).ToArray();
    }

    [Theory]
    [InlineData(new[] { -0.5f, 0.25f, 1f })]  // every slope ≤ 1: Max(x, x·s)
    [InlineData(new[] { -1.35f, 0.3f, 1.23f })] // a slope above 1 (as fr_feature.onnx's first PRelu): Relu + (x − Relu)·s
    public void PReluRewriteGivesBitIdenticalEmbeddings(float[] slopes)
    {
        var path = Save(PReluModel(slopes));
        var faces = Faces(5, 1);
        using var plain = new OnnxFaceEmbedder(path, settings: new OnnxRuntimeSettings(RewritePRelu: false));
        using var rewritten = new OnnxFaceEmbedder(path);
        Assert.Equal(0, plain.PReluRewritten);
        Assert.Equal(1, rewritten.PReluRewritten);
        var expected = plain.Embed(faces);
        var actual = rewritten.Embed(faces);
        for (int i = 0; i < faces.Length; i++) Assert.Equal(expected[i], actual[i]);
        // and both are PRelu: (x − 127.5) / 127.5, times the channel's slope where negative
        int c = 2, k = 112 * 112 * c + 57;
        float x = (faces[0].Pixels[57 * 3 + c] - 127.5f) / 127.5f;
        Assert.Equal(x >= 0 ? x : x * slopes[c], actual[0][k]);
    }

    [Fact]
    public void PReluRewriteUsesTheTwoOpFormOnlyWhenEverySlopeIsAtMostOne()
    {
        var small = PReluModel([-0.5f, 0.25f, 1f]);
        Assert.Equal(1, OnnxPReluRewriter.Rewrite(small));
        Assert.Equal(["Mul", "Max", "Reshape"], small.Graph.Node.Select(n => n.OpType));
        var large = PReluModel([0.5f, 0.25f, 1.5f]);
        Assert.Equal(1, OnnxPReluRewriter.Rewrite(large));
        Assert.Equal(["Relu", "Sub", "Mul", "Add", "Reshape"], large.Graph.Node.Select(n => n.OpType));
        Assert.Equal("p", large.Graph.Node[3].Output[0]); // the PRelu's output name is kept for its consumers
    }

    [Fact]
    public void RebatchedBatchOneGraphGivesTheSameRowsAsOneFacePerRun()
    {
        var path = Save(PReluModel([-0.5f, 0.25f, 1.5f]));
        var faces = Faces(7, 2);
        using var single = new OnnxFaceEmbedder(path);
        using var batched = new OnnxFaceEmbedder(path, batchSize: 3, settings: new OnnxRuntimeSettings(Rebatch: true));
        Assert.Equal(1, single.FixedBatch);
        Assert.True(batched.Rebatched);
        Assert.Null(batched.FixedBatch);
        var expected = single.Embed(faces);
        var actual = batched.Embed(faces);
        for (int i = 0; i < faces.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void ReshapeThatDoesNotStartWithTheBatchIsNotRebatched()
    {
        var model = PReluModel([0.5f, 0.5f, 0.5f], leadingShape: 3);
        var before = model.ToByteArray();
        Assert.False(OnnxBatchRewriter.TryRewrite(model, out var reason));
        Assert.Contains("flatten", reason);
        Assert.Equal(before, model.ToByteArray()); // nothing half-rewritten
    }

    [Fact]
    public void ProgressIsReportedPerRunAndAddsUpToTheFaces()
    {
        var path = Save(PReluModel([0.5f, 0.5f, 0.5f]));
        using var embedder = new OnnxFaceEmbedder(path);
        int reported = 0;
        embedder.Embed(Faces(6, 3), n => Interlocked.Add(ref reported, n));
        Assert.Equal(6, reported);
    }
}
