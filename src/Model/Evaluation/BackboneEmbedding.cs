using ActorFace.Model.Backbones;

namespace ActorFace.Model.Evaluation;

/// <summary>Builds a <see cref="TorchFaceEmbedder"/> from a network name and a `.pth` state dict (strict load).</summary>
public static class BackboneEmbedding
{
    public static TorchFaceEmbedder Load(string network, string weightsPath, int batchSize = 64)
    {
        var backbone = BackboneFactory.Create(network);
        try
        {
            StateDictFile.Load(backbone, weightsPath);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
        return new TorchFaceEmbedder(backbone, batchSize, $"torch:{network} ({Path.GetFileName(weightsPath)})", ownsModule: true);
    }
}
