using TorchSharp;

namespace ActorFace.Model.Data;

/// <summary>
/// A training batch: float32 images [B, 3, 112, 112] normalised to (x/255 - 0.5)/0.5 and int64 labels [B].
/// The receiver owns the tensors and disposes them (in-process only; never serialised).
/// </summary>
public sealed class Batch(torch.Tensor images, torch.Tensor labels, int[] sampleIndices) : IDisposable
{
    public torch.Tensor Images { get; } = images;
    public torch.Tensor Labels { get; } = labels;
    /// <summary>Dataset indices of the rows (for logging, corrupt-record substitutes included).</summary>
    public int[] SampleIndices { get; } = sampleIndices;
    public int Size => SampleIndices.Length;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
