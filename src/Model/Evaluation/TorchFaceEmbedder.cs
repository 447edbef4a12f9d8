using TorchSharp;
using ActorFace.Model.Formats.Images;
using static TorchSharp.torch;

namespace ActorFace.Model.Evaluation;

/// <summary>
/// Embeds faces with a TorchSharp backbone in eval mode without gradients, input (x/255 − 0.5)/0.5 in float32
/// (spec §6.2). The module's train/eval state is restored afterwards, so the training loop can hand in its live
/// backbone. The embedder does not own a module it was given unless <c>ownsModule</c> is set.
/// </summary>
public sealed class TorchFaceEmbedder : IFaceEmbedder
{
    readonly nn.Module<Tensor, Tensor> backbone;
    readonly int batchSize;
    readonly bool ownsModule;

    public string Description { get; }

    public TorchFaceEmbedder(nn.Module<Tensor, Tensor> backbone, int batchSize = 64, string? description = null, bool ownsModule = false)
    {
        this.backbone = backbone;
        this.batchSize = Math.Max(1, batchSize);
        this.ownsModule = ownsModule;
        Description = description ?? $"torch:{backbone.GetName()}";
    }

    public float[][] Embed(IReadOnlyList<RgbImage> faces) => Embed(faces, null);

    public float[][] Embed(IReadOnlyList<RgbImage> faces, Action<int>? progress)
    {
        var result = new float[faces.Count][];
        bool wasTraining = backbone.training;
        backbone.eval();
        var device = backbone.parameters().FirstOrDefault()?.device ?? CPU;
        try
        {
            using var noGrad = no_grad();
            var buffer = new float[batchSize * 3 * 112 * 112];
            for (int start = 0; start < faces.Count; start += batchSize)
            {
                int count = Math.Min(batchSize, faces.Count - start);
                for (int i = 0; i < count; i++) Fill(faces[start + i], buffer.AsSpan(i * 3 * 112 * 112, 3 * 112 * 112));
                using var scope = NewDisposeScope();
                var input = tensor(buffer.AsSpan(0, count * 3 * 112 * 112).ToArray(), new long[] { count, 3, 112, 112 }).to(device);
                var output = backbone.forward(input).to(float32).cpu().contiguous();
                var data = output.data<float>().ToArray();
                int dim = data.Length / count;
                for (int i = 0; i < count; i++) result[start + i] = data.AsSpan(i * dim, dim).ToArray();
                progress?.Invoke(count);
            }
        }
        finally
        {
            if (wasTraining) backbone.train();
        }
        return result;
    }

    static void Fill(RgbImage face, Span<float> dst)
    {
        if (!face.IsFaceSized) throw new ArgumentException($"face is {face.Width}x{face.Height}, expected 112x112");
        const int plane = 112 * 112;
        var px = face.Pixels;
        for (int c = 0; c < 3; c++)
        {
            var d = dst.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) d[i] = (px[i * 3 + c] / 255f - 0.5f) / 0.5f;
        }
    }

    public void Dispose()
    {
        if (ownsModule) backbone.Dispose();
    }
}
