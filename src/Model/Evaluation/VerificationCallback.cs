using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Evaluation;

/// <summary>
/// arcface_torch's CallBackVerification: created on rank 0 with the configured targets, loads `&lt;rec&gt;/&lt;name&gt;.bin`
/// once (missing files are skipped, as in the reference), and every <c>frequent</c> steps (step &gt; 0) evaluates
/// the live backbone, logs XNorm / Accuracy-Flip / Accuracy-Highest, and reports a scalar per target.
/// </summary>
public sealed class VerificationCallback
{
    readonly int frequent;
    readonly int batchSize;
    readonly Action<string> log;
    readonly List<DecodedVerificationSet> sets = new();
    readonly Dictionary<string, double> highest = new();

    /// <summary>Called with (target name, Accuracy-Flip, global step): the TensorBoard scalar of the reference.</summary>
    public event Action<string, double, int>? Scalar;

    public IReadOnlyList<string> Targets => sets.Select(s => s.Name).ToList();
    public IReadOnlyDictionary<string, double> HighestAccuracy => highest;

    public VerificationCallback(int frequent, IEnumerable<string> valTargets, string recDir, Action<string> log, int batchSize = 64)
    {
        if (frequent <= 0) throw new ArgumentOutOfRangeException(nameof(frequent), "verbose must be positive");
        this.frequent = frequent;
        this.batchSize = batchSize;
        this.log = log;
        foreach (var name in valTargets)
        {
            var path = Path.Combine(recDir, name + ".bin");
            if (!File.Exists(path)) { log($"verification target {name}: {path} not found, skipped"); continue; }
            var set = DecodedVerificationSet.Load(path);
            sets.Add(set);
            highest[set.Name] = 0;
        }
    }

    public bool IsDue(int globalStep) => globalStep > 0 && globalStep % frequent == 0;

    /// <summary>Runs the evaluation when due; returns the results (empty when not due).</summary>
    public IReadOnlyList<VerificationResult> Call(int globalStep, nn.Module<Tensor, Tensor> backbone)
    {
        if (!IsDue(globalStep)) return Array.Empty<VerificationResult>();
        using var embedder = new TorchFaceEmbedder(backbone, batchSize);
        return Evaluate(globalStep, embedder);
    }

    /// <summary>Evaluates every loaded target with any embedder (also used by tests and the ONNX path).</summary>
    public IReadOnlyList<VerificationResult> Evaluate(int globalStep, IFaceEmbedder embedder)
    {
        var results = new List<VerificationResult>();
        foreach (var set in sets)
        {
            var r = VerificationRunner.Run(set, embedder).Result;
            if (r.Flip.Accuracy > highest[set.Name]) highest[set.Name] = r.Flip.Accuracy;
            foreach (var line in VerificationLog.Lines(set.Name, globalStep, r, highest[set.Name])) log(line);
            Scalar?.Invoke(set.Name, r.Flip.Accuracy, globalStep);
            results.Add(r);
        }
        return results;
    }
}
