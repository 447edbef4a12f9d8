using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using ActorFace.Model.Formats.Images;
using Onnx;

namespace ActorFace.Model.Evaluation;

/// <summary>Pixel normalisation fed to an ONNX face model: (x − Mean)/Std per channel, RGB or BGR order.</summary>
public sealed record OnnxPreprocessing(float Mean = 127.5f, float Std = 127.5f, bool Bgr = false)
{
    /// <summary>InsightFace model-zoo / torch2onnx convention (spec §7.2).</summary>
    public static readonly OnnxPreprocessing InsightFace = new();
}

/// <summary>
/// How ONNX Runtime runs an evaluation: <c>ConcurrentRuns</c> independent runs of <c>IntraOpThreads</c> threads each.
/// Zero means "choose": one single-threaded run per core (a small face model keeps a core busy on its own, and
/// independent runs never wait on each other, where ONNX Runtime's intra-op pool synchronises after every node).
/// <c>Rebatch</c> rewrites a fixed batch-1 graph to a symbolic batch (<see cref="OnnxBatchRewriter"/>); off by default
/// because, measured on fr_feature.onnx with 2 cores, batches of 8 to 64 per run were 10–40 % slower per CPU-second
/// than concurrent batch-1 runs (a batch-1 MobileFaceNet's activations stay in cache).
/// <c>RewritePRelu</c> swaps PRelu for an exact vectorised form (<see cref="OnnxPReluRewriter"/>).
/// <c>Spinning</c> lets pool threads busy-wait between nodes (ONNX Runtime's default; it burns a shared core).
/// </summary>
public sealed record OnnxRuntimeSettings(int ConcurrentRuns = 0, int IntraOpThreads = 0, bool Rebatch = false, bool Spinning = false,
    bool RewritePRelu = true, GraphOptimizationLevel Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
{
    public static readonly OnnxRuntimeSettings Default = new();
}

/// <summary>
/// ONNX Runtime embedder for NCHW float32 [N,3,112,112] → [N,D] models. Faces go in batches of <c>batchSize</c>;
/// a graph exported with a fixed batch of 1 is first re-batched when that is provably safe, otherwise it is fed
/// exactly its fixed batch per run. Runs proceed in parallel (InferenceSession.Run is thread-safe), each worker
/// reusing one input buffer.
/// </summary>
public sealed class OnnxFaceEmbedder : IFaceEmbedder
{
    const int FaceFloats = 3 * 112 * 112;

    readonly InferenceSession session;
    readonly string inputName, outputName;
    readonly OnnxPreprocessing prep;
    readonly int batchSize;
    readonly int fixedBatch; // 0 when the batch dimension is symbolic (as exported, or after re-batching)
    readonly int concurrentRuns;
    readonly int preluRewritten;

    public string Description { get; }
    public int? FixedBatch => fixedBatch > 0 ? fixedBatch : null;
    /// <summary>True when a fixed batch-1 graph was rewritten to a symbolic batch.</summary>
    public bool Rebatched { get; }
    /// <summary>PRelu nodes replaced by their vectorised form.</summary>
    public int PReluRewritten => preluRewritten;

    /// <summary>Largest ONNX file accepted: protobuf caps a model at 2 GiB.</summary>
    public const long MaxModelBytes = 2L << 30;

    public OnnxFaceEmbedder(string modelPath, OnnxPreprocessing? preprocessing = null, int batchSize = 64, int threads = 0,
        OnnxRuntimeSettings? settings = null)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model {modelPath} not found", modelPath);
        // ONNX Runtime opens the path itself: refuse a FIFO (blocks forever) or a device (endless) first.
        ActorFace.Model.Formats.RegularFile.Require(modelPath, "ONNX model", MaxModelBytes);
        prep = preprocessing ?? OnnxPreprocessing.InsightFace;
        settings ??= OnnxRuntimeSettings.Default;
        this.batchSize = Math.Max(1, batchSize);
        int cores = threads > 0 ? threads : Environment.ProcessorCount;
        var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.Optimization,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        try
        {
            using (var probe = new InferenceSession(modelPath, new SessionOptions { IntraOpNumThreads = 1 }))
                fixedBatch = Inspect(probe, modelPath, out inputName, out outputName);
            var rewritten = Rewrite(modelPath, settings, fixedBatch, out bool rebatched, out preluRewritten);
            if (rebatched) { fixedBatch = 0; Rebatched = true; }
            concurrentRuns = settings.ConcurrentRuns > 0 ? settings.ConcurrentRuns : cores;
            options.IntraOpNumThreads = settings.IntraOpThreads > 0 ? settings.IntraOpThreads : Math.Max(1, cores / concurrentRuns);
            options.InterOpNumThreads = 1;
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", settings.Spinning ? "1" : "0");
            session = rewritten is not null ? new InferenceSession(rewritten, options) : new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{modelPath}: cannot load ONNX model ({e.Message})", e);
        }
        finally { options.Dispose(); }
        Description = $"onnx:{Path.GetFileName(modelPath)} (mean {prep.Mean}, std {prep.Std}, {(prep.Bgr ? "BGR" : "RGB")}"
                      + (Rebatched ? ", batch-1 graph re-batched" : fixedBatch > 0 ? $", fixed batch {fixedBatch}" : "") + ")";
    }

    /// <summary>The model with the inference rewrites applied (see <see cref="OnnxRuntimeSettings"/>), or null to load
    /// the file as it is (nothing to rewrite, or weights in external data, which ONNX Runtime must find by path).</summary>
    static byte[]? Rewrite(string modelPath, OnnxRuntimeSettings settings, int fixedBatch, out bool rebatched, out int prelu)
    {
        rebatched = false;
        prelu = 0;
        if (!settings.Rebatch && !settings.RewritePRelu) return null;
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath)); }
        catch (InvalidProtocolBufferException) { return null; } // ONNX Runtime has accepted it: leave it to it
        if (model.Graph is null || model.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External)) return null;
        if (settings.RewritePRelu) prelu = OnnxPReluRewriter.Rewrite(model);
        if (settings.Rebatch && fixedBatch == 1) rebatched = OnnxBatchRewriter.TryRewrite(model, out _);
        return prelu > 0 || rebatched ? model.ToByteArray() : null;
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

    public float[][] Embed(IReadOnlyList<RgbImage> faces) => Embed(faces, null);

    public float[][] Embed(IReadOnlyList<RgbImage> faces, Action<int>? progress)
    {
        var result = new float[faces.Count][];
        int chunk = fixedBatch > 0 ? fixedBatch : Math.Min(batchSize, Math.Max(1, (faces.Count + concurrentRuns - 1) / concurrentRuns));
        int chunks = (faces.Count + chunk - 1) / chunk;
        int workers = Math.Min(concurrentRuns, chunks);
        // Each worker takes every workers-th chunk and reuses one input buffer for all of them.
        Parallelism.For(workers, w =>
        {
            var input = new float[chunk * FaceFloats];
            using var runOptions = new RunOptions();
            for (int c = w; c < chunks; c += workers)
            {
                int start = c * chunk, count = Math.Min(chunk, faces.Count - start);
                // A fixed-batch graph must always get its full batch: pad the tail with copies and drop their rows.
                int fed = fixedBatch > 0 ? fixedBatch : count;
                for (int i = 0; i < fed; i++) Fill(faces[start + Math.Min(i, count - 1)], input.AsSpan(i * FaceFloats, FaceFloats));
                using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, fed * FaceFloats),
                    new long[] { fed, 3, 112, 112 });
                using var outputs = session.Run(runOptions, new[] { inputName }, new[] { value }, new[] { outputName });
                var data = outputs[0].GetTensorDataAsSpan<float>();
                int dim = data.Length / fed;
                for (int i = 0; i < count; i++) result[start + i] = data.Slice(i * dim, dim).ToArray();
                progress?.Invoke(count);
            }
        }, workers);
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
