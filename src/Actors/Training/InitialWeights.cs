using ActorFace.Actors.Settings;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.PartialFC;
using TorchSharp;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Actors.Training;

/// <summary>
/// Fine-tuning start points (`init_backbone`, `init_partial_fc`): weights loaded before the first step of a fresh run,
/// never over a checkpoint (a resumed or recovered generation starts from its checkpoint's weights).
/// </summary>
public static class InitialWeights
{
    public const string PartialFcKey = "weight";

    /// <summary>Whether a rank starting at <paramref name="startStep"/> takes the initial weights (a fresh start only).</summary>
    public static bool Applies(TrainingSettings s, long startStep) => startStep == 0 && !s.Resume;

    /// <summary>Strict load (StateDictFile.Load): every key of the network with its shape, nothing else; the error
    /// lists the missing, unexpected and mis-shaped keys.</summary>
    public static void LoadBackbone(nn.Module backbone, string path) => StateDictFile.Load(backbone, path);

    /// <summary>This rank's rows of the [num_classes, D] centre matrix stored under "weight" in <paramref name="path"/>.</summary>
    public static Tensor PartialFcRows(string path, ShardLayout layout, int embeddingSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"init_partial_fc: file not found: {path}", path);
        var entries = PthArchive.Read(path);
        try
        {
            var keys = entries.Select(e => e.Key).ToList();
            if (keys.Count != 1 || keys[0] != PartialFcKey)
                throw new InvalidDataException($"{path}: init_partial_fc must hold exactly one tensor '{PartialFcKey}' [num_classes, embedding_size]; " +
                                               $"it holds {string.Join(", ", entries.Select(e => $"{e.Key} [{string.Join(", ", e.Value.shape)}]"))}");
            var weight = entries[0].Value;
            if (!weight.shape.SequenceEqual(new[] { layout.NumClasses, (long)embeddingSize }))
                throw new InvalidDataException($"{path}: '{PartialFcKey}' has shape [{string.Join(", ", weight.shape)}], " +
                                               $"the job needs [{layout.NumClasses}, {embeddingSize}] (num_classes, embedding_size)");
            if (!weight.is_floating_point())
                throw new InvalidDataException($"{path}: '{PartialFcKey}' has dtype {weight.dtype}, expected a floating-point tensor");
            return weight.narrow(0, layout.ClassStart, layout.NumLocal).to_type(ScalarType.Float32).clone();
        }
        finally
        {
            foreach (var (_, t) in entries) t.Dispose();
        }
    }

    /// <summary>
    /// Checks the files before any rank starts (so a wrong file is bad input, exit code 2, not a failing generation) and
    /// returns the log lines saying what the run will start from.
    /// </summary>
    public static IReadOnlyList<string> Check(TrainingSettings s)
    {
        var lines = new List<string>();
        if (s.InitBackbone.Length == 0 && s.InitPartialFc.Length == 0) return lines;
        if (s.Resume)
        {
            foreach (var (key, path) in new[] { ("init_backbone", s.InitBackbone), ("init_partial_fc", s.InitPartialFc) }.Where(k => k.Item2.Length > 0))
                lines.Add($"{key} = {path} is ignored: resuming from the latest checkpoint, whose weights win");
            return lines;
        }
        if (s.InitBackbone.Length > 0)
        {
            if (!File.Exists(s.InitBackbone)) throw new FileNotFoundException($"init_backbone: file not found: {s.InitBackbone}", s.InitBackbone);
            using var scope = NewDisposeScope();
            using var backbone = BackboneFactory.Create(s.Network, s.EmbeddingSize, s.Dropout, s.Fp16);
            try { LoadBackbone(backbone, s.InitBackbone); }
            catch (InvalidDataException e) { throw new InvalidDataException("init_backbone: " + e.Message, e); }
            lines.Add($"init_backbone: {s.InitBackbone} matches {s.Network} (embedding {s.EmbeddingSize}, " +
                      $"{StateDictEntries.Of(backbone).Count} tensors, strict); every rank starts from it");
        }
        if (s.InitPartialFc.Length > 0)
        {
            using var rows = PartialFcRows(s.InitPartialFc, new ShardLayout(s.NumClasses, 1, 0), s.EmbeddingSize);
            lines.Add($"init_partial_fc: {s.InitPartialFc} holds the centres of all {s.NumClasses} classes; each rank takes its rows");
        }
        return lines;
    }
}
