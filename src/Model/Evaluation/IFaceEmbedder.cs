using ActorFace.Model.Formats.Images;
namespace ActorFace.Model.Evaluation;

/// <summary>
/// Turns aligned 112×112 RGB faces into raw (un-normalised) embeddings, one row per face. Each implementation
/// applies its own input normalisation (TorchSharp backbone: (x/255−0.5)/0.5; ONNX: (x−mean)/std).
/// </summary>
public interface IFaceEmbedder : IDisposable
{
    /// <summary>Short human-readable description (model path / network name) for logs.</summary>
    string Description { get; }

    float[][] Embed(IReadOnlyList<RgbImage> faces);

    /// <summary>As <see cref="Embed(IReadOnlyList{RgbImage})"/>, calling <paramref name="progress"/> with the number of
    /// faces finished after each batch (possibly from several threads), for long evaluations to show progress.</summary>
    float[][] Embed(IReadOnlyList<RgbImage> faces, Action<int>? progress)
    {
        var rows = Embed(faces);
        progress?.Invoke(faces.Count);
        return rows;
    }
}
