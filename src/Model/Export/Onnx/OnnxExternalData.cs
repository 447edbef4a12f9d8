using Google.Protobuf;
using Onnx;

namespace ActorFace.Model.Export.Onnx;

/// <summary>
/// ONNX's external-data layout for models over protobuf's 2 GiB message limit (vit_h is ~3 GB of float32 weights):
/// every large initializer's bytes go, 64-byte aligned, into one side file next to the model, referenced by
/// location/offset/length, as onnx.save_model(..., save_as_external_data=True) writes it.
/// </summary>
internal static class OnnxExternalData
{
    /// <summary>Above this many initializer bytes the weights are written externally (protobuf's limit is 2 GiB).</summary>
    public const long DefaultThresholdBytes = 1L << 30;

    const int Alignment = 64;
    const int MinTensorBytes = 1024;

    public static bool Needed(ModelProto model, long thresholdBytes) =>
        model.Graph.Initializer.Sum(t => (long)t.RawData.Length) > thresholdBytes;

    /// <summary>
    /// Moves the raw data of tensors ≥ 1 KiB into <paramref name="dataPath"/>; the model refers to it as
    /// <paramref name="location"/> (the data file's final name, relative to the model's directory).
    /// </summary>
    public static void Move(ModelProto model, string dataPath, string location)
    {
        using var stream = File.Create(dataPath);
        foreach (var tensor in model.Graph.Initializer.Where(t => t.RawData.Length >= MinTensorBytes))
        {
            var padding = (Alignment - stream.Position % Alignment) % Alignment;
            stream.Write(new byte[padding]);
            var offset = stream.Position;
            tensor.RawData.WriteTo(stream);
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.RawData.Length.ToString() });
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.RawData = ByteString.Empty;
        }
    }
}
