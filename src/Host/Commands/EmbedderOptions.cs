using System.CommandLine;
using ActorFace.Model.Evaluation;

namespace ActorFace.Host.Commands;

/// <summary>
/// The model-selection options shared by eval, eval-ijb and embed: either an ONNX model (InsightFace model-zoo
/// defaults: mean 127.5, std 127.5, RGB) or a TorchSharp backbone with its .pth weights.
/// </summary>
internal sealed class EmbedderOptions
{
    public readonly Option<string?> Onnx = new("--onnx") { Description = "ONNX face model, input [N,3,112,112] float32" };
    public readonly Option<float> Mean = new("--mean") { Description = "ONNX input mean (x - mean) / std", DefaultValueFactory = _ => 127.5f };
    public readonly Option<float> Std = new("--std") { Description = "ONNX input std", DefaultValueFactory = _ => 127.5f };
    public readonly Option<bool> Bgr = new("--bgr") { Description = "feed the ONNX model BGR instead of RGB" };
    public readonly Option<string?> Network = new("--network") { Description = "backbone name: r18 r34 r50 r100 r200 mbf mbf_large vit_t vit_s vit_b … (see README)" };
    public readonly Option<string?> Weights = new("--weights") { Description = "backbone state dict (.pth, PyTorch zip format)" };
    public readonly Option<int> Batch = new("--batch") { Description = "images per forward pass", DefaultValueFactory = _ => 64 };

    /// <summary>Images per forward pass at most (memory grows with it; throughput does not after a few dozen).</summary>
    public const int MaxBatch = 4096;

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Onnx, Mean, Std, Bgr, Network, Weights, Batch }) command.Options.Add(o);
    }

    /// <summary>The model as the user named it, for messages ("--weights x.pth (r50)" or "--onnx m.onnx").</summary>
    public string Source(ParseResult p) =>
        p.GetValue(Onnx) is { } onnx ? $"--onnx {onnx}" : $"--weights {p.GetValue(Weights)} ({p.GetValue(Network)})";

    /// <summary>Creates the embedder; throws <see cref="ArgumentException"/> with a one-line message for bad choices.</summary>
    public IFaceEmbedder Create(ParseResult p)
    {
        string? onnx = p.GetValue(Onnx), network = p.GetValue(Network), weights = p.GetValue(Weights);
        int batch = p.GetValue(Batch);
        if (batch is <= 0 or > MaxBatch) throw new ArgumentException($"--batch {batch}: must be 1..{MaxBatch}");
        if (onnx != null && (network != null || weights != null))
            throw new ArgumentException("give either --onnx or --network/--weights, not both");
        if (onnx != null)
        {
            if (!File.Exists(onnx)) throw new ArgumentException($"--onnx {onnx}: file not found");
            float std = p.GetValue(Std), mean = p.GetValue(Mean);
            if (std == 0 || !float.IsFinite(std)) throw new ArgumentException($"--std {std}: must be a finite number other than 0");
            if (!float.IsFinite(mean)) throw new ArgumentException($"--mean {mean}: must be a finite number");
            return new OnnxFaceEmbedder(onnx, new OnnxPreprocessing(mean, std, p.GetValue(Bgr)), batch);
        }
        if (network == null || weights == null)
            throw new ArgumentException("choose a model: --onnx MODEL.onnx, or --network NAME --weights FILE.pth");
        if (!File.Exists(weights)) throw new ArgumentException($"--weights {weights}: file not found");
        return BackboneEmbedding.Load(network, weights, batch);
    }
}

/// <summary>Uniform error reporting for the evaluation commands: one line on stderr, exit code 2 for bad input.</summary>
internal static class CommandErrors
{
    public static int Run(ParseResult p, string command, Func<TextWriter, int> body)
    {
        var err = p.InvocationConfiguration.Error;
        try { return body(p.InvocationConfiguration.Output); }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException
                                      or UnauthorizedAccessException or FormatException)
        {
            err.WriteLine($"actorface {command}: {e.Message}");
            return 2;
        }
    }
}
