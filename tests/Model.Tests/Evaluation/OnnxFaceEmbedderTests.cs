using ActorFace.Model.Evaluation;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Tests.Evaluation;

public class OnnxFaceEmbedderTests : IDisposable
{
    readonly TempDirectory dir = new("afonnx");

    public void Dispose() => dir.Dispose();

    static RgbImage[] Faces(int n) => Enumerable.Range(0, n).Select(i => FaceFixtures.Solid((byte)(10 * i), (byte)(200 - i), 255)).ToArray();

    static float[] Expected(RgbImage face, OnnxPreprocessing p)
    {
        var rgb = new float[] { face.Pixels[0], face.Pixels[1], face.Pixels[2] }.Select(v => (v - p.Mean) / p.Std).ToArray();
        return p.Bgr ? rgb.Reverse().ToArray() : rgb;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SymbolicBatchModelIsFedInBatchesWithTheGivenNormalisation(bool bgr)
    {
        var path = Path.Combine(dir, "dyn.onnx");
        TinyOnnxModel.Write(path, batch: null);
        var prep = new OnnxPreprocessing(127f, 128f, bgr);
        using var embedder = new OnnxFaceEmbedder(path, prep, batchSize: 3);
        Assert.Null(embedder.FixedBatch);
        var faces = Faces(7);
        var rows = embedder.Embed(faces);
        Assert.Equal(7, rows.Length);
        for (int i = 0; i < 7; i++) Assert.Equal(Expected(faces[i], prep), rows[i], new Near(1e-4f));
    }

    [Fact]
    public void FixedBatchModelGetsFullBatchesAndPaddingRowsAreDropped()
    {
        var path = Path.Combine(dir, "fixed4.onnx");
        TinyOnnxModel.Write(path, batch: 4);
        using var embedder = new OnnxFaceEmbedder(path);
        Assert.Equal(4, embedder.FixedBatch);
        var faces = Faces(6);
        var rows = embedder.Embed(faces);
        Assert.Equal(6, rows.Length);
        for (int i = 0; i < 6; i++) Assert.Equal(Expected(faces[i], OnnxPreprocessing.InsightFace), rows[i], new Near(1e-4f));
    }

    [Fact]
    public void WrongInputSizeIsRefusedNamingTheModel()
    {
        var path = Path.Combine(dir, "small.onnx");
        TinyOnnxModel.Write(path, batch: 1, size: 64);
        var e = Assert.Throws<InvalidDataException>(() => new OnnxFaceEmbedder(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("[N,3,112,112]", e.Message);
    }

    sealed class Near(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= eps;
        public int GetHashCode(float obj) => 0;
    }
}
