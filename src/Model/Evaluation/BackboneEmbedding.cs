namespace ActorFace.Model.Evaluation;

/// <summary>Builds a <see cref="TorchFaceEmbedder"/> from a network name and a `.pth` state dict.</summary>
public static class BackboneEmbedding
{
    public static TorchFaceEmbedder Load(string network, string weightsPath, int batchSize = 64) =>
        throw new NotSupportedException($"--network {network}: the TorchSharp backbones have not landed yet; use --onnx");
}
