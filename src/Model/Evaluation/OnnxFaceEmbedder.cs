using Microsoft.ML.OnnxRuntime;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Evaluation;

/// <summary>Pixel normalisation fed to an ONNX face model: (x − Mean)/Std per channel, RGB or BGR order.</summary>
public sealed record OnnxPreprocessing(float Mean = 127.5f, float Std = 127.5f, bool Bgr = false)
{
    /// <summary>InsightFace model-zoo / torch2onnx convention (spec §7.2).</summary>
    public static readonly OnnxPreprocessing InsightFace = new();
}

/// <summary>
/// ONNX Runtime embedder for NCHW float32 [N,3,112,112] → [N,D] models. Models with a symbolic batch dimension get
/// batches of <c>batchSize</c>; models exported with a fixed batch (e.g. 1) are fed exactly that many faces per run,
/// with independent runs in parallel (InferenceSession.Run is thread-safe).
/// </summary>
public sealed class OnnxFaceEmbedder : IFaceEmbedder
{
    readonly InferenceSession session;
    readonly string inputName, outputName;
    readonly OnnxPreprocessing prep;
    readonly int batchSize;
    readonly int fixedBatch; // 0 when the batch dimension is symbolic
    readonly int parallelRuns;

    public string Description { get; }
    public int? FixedBatch => fixedBatch > 0 ? fixedBatch : null;

    /// <summary>Largest ONNX file accepted: protobuf caps a model at 2 GiB.</summary>
    public const long MaxModelBytes = 2L << 30;

    public OnnxFaceEmbedder(string modelPath, OnnxPreprocessing? preprocessing = null, int batchSize = 64, int threads = 0)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model {modelPath} not found", modelPath);
        // ONNX Runtime opens the path itself: refuse a FIFO (blocks forever) or a device (endless) first.
        ActorFace.Model.Formats.RegularFile.Require(modelPath, "ONNX model", MaxModelBytes);
        prep = preprocessing ?? OnnxPreprocessing.InsightFace;
        this.batchSize = Math.Max(1, batchSize);
        int cores = threads > 0 ? threads : Environment.ProcessorCount;
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            using (var probe = new InferenceSession(modelPath)) fixedBatch = Inspect(probe, modelPath, out inputName, out outputName);
            // Fixed-batch models: parallelism comes from concurrent runs, so keep each run single-threaded.
            parallelRuns = fixedBatch > 0 ? cores : 1;
            options.IntraOpNumThreads = fixedBatch > 0 ? 1 : cores;
            options.InterOpNumThreads = 1;
            session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{modelPath}: cannot load ONNX model ({e.Message})", e);
        }
        finally { options.Dispose(); }
        Description = $"onnx:{Path.GetFileName(modelPath)} (mean {prep.Mean}, std {prep.Std}, {(prep.Bgr ? "BGR" : "RGB")}"
                      + (fixedBatch > 0 ? $", fixed batch {fixedBatch})" : ")");
    }

    static int Inspect(InferenceSession s, string path, out string input, out string output)
    {
        if (s.InputMetadata.Count != 1 || s.OutputMetadata.Count < 1)
            throw new InvalidDataException($"{path}: expected one input and at least one output, found {s.InputMetadata.Count} / {s.OutputMetadata.Count}");
        var (name, meta) = s.InputMetadata.First();
        var dims = meta.Dimensions;
        if (dims.Length != 4 || (dims[1] != 3 && dims[1] > 0) || (dims[2] > 0 && dims[2] != 112) || (dims[3] > 0 && dims[3] != 112))
            throw new InvalidDataException($"{path}: input '{name}' has shape [{string.Join(",", dims)}], expected [N,3,112,112]");
        if (meta.ElementType != typeof(float))
            throw new InvalidDataException($"{path}: input '{name}' is {meta.ElementType.Name}, expected float32");
        input = name;
        output = s.OutputMetadata.Keys.First();
        return dims[0] > 0 ? dims[0] : 0;
    }

    public float[][] Embed(IReadOnlyList<RgbImage> faces)
    {
        var result = new float[faces.Count][];
        int chunk = fixedBatch > 0 ? fixedBatch : batchSize;
        int chunks = (faces.Count + chunk - 1) / chunk;
        Parallelism.For(chunks, c =>
        {
            int start = c * chunk, count = Math.Min(chunk, faces.Count - start);
            // A fixed-batch graph must always get its full batch: pad the tail with copies and drop their rows.
            int fed = fixedBatch > 0 ? fixedBatch : count;
            var input = new float[fed * 3 * 112 * 112];
            for (int i = 0; i < fed; i++) Fill(faces[start + Math.Min(i, count - 1)], input.AsSpan(i * 3 * 112 * 112, 3 * 112 * 112));
            using var value = OrtValue.CreateTensorValueFromMemory(input, new long[] { fed, 3, 112, 112 });
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, new[] { inputName }, new[] { value }, new[] { outputName });
            var data = outputs[0].GetTensorDataAsSpan<float>();
            int dim = data.Length / fed;
            for (int i = 0; i < count; i++) result[start + i] = data.Slice(i * dim, dim).ToArray();
        }, parallelRuns);
        return result;
    }

    void Fill(RgbImage face, Span<float> dst)
    {
        if (!face.IsFaceSized) throw new ArgumentException($"face is {face.Width}x{face.Height}, expected 112x112");
        const int plane = 112 * 112;
        var px = face.Pixels;
        float mean = prep.Mean, std = prep.Std;
        for (int c = 0; c < 3; c++)
        {
            int src = prep.Bgr ? 2 - c : c;
            var d = dst.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) d[i] = (px[i * 3 + src] - mean) / std;
        }
    }

    public void Dispose() => session.Dispose();
}
