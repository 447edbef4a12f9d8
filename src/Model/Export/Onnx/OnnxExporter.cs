using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Vit;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Model.Export.Onnx;

/// <summary>What to export: opset (13–17; LayerNormalization is decomposed below 17) and an optional fixed batch.</summary>
public sealed record OnnxExportOptions(int Opset = 17, int? Batch = null)
{
    public const int MinOpset = 13, MaxOpset = 17;
}

/// <summary>
/// Writes a backbone as an ONNX model: input "input" float32 [N, 3, 112, 112] (RGB, (x − 127.5)/127.5, as
/// arcface_torch's torch2onnx expects), output "embedding" float32 [N, D], eval-mode semantics (batch norm with
/// running statistics, no dropout/drop path/token masking). N is symbolic ("batch") unless a fixed batch is asked for.
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "input", OutputName = "embedding";

    internal static ModelProto Build(Module<Tensor, Tensor> backbone, string network, OnnxExportOptions options)
    {
        if (options.Opset is < OnnxExportOptions.MinOpset or > OnnxExportOptions.MaxOpset)
            throw new ArgumentException($"opset {options.Opset} is not supported (use {OnnxExportOptions.MinOpset}..{OnnxExportOptions.MaxOpset})");
        if (options.Batch is < 1) throw new ArgumentException($"batch must be positive, got {options.Batch}");
        var features = EmbeddingSize(backbone);
        var g = new OnnxGraphBuilder(options.Opset);
        var output = new OnnxModuleEmitter(g).Emit(backbone, InputName);
        g.RenameLastOutput(output, OutputName);
        g.Graph.Input.Add(Value(InputName, options.Batch, 3, 112, 112));
        g.Graph.Output.Add(Value(OutputName, options.Batch, features));
        g.Graph.DocString = $"ActorFace {network}: RGB 112x112 input normalised as (x - 127.5) / 127.5, NCHW float32; output the un-normalised embedding";

        var model = new ModelProto
        {
            IrVersion = 8, // opset 13–17 all fit IR version 8
            ProducerName = "actorface",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "network", Value = network });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "preprocessing", Value = "RGB; (x - 127.5) / 127.5; NCHW" });
        return model;
    }

    /// <summary>
    /// Builds and writes the model atomically (temporary files renamed into place). Models whose weights exceed
    /// <paramref name="externalThresholdBytes"/> keep them in OUT.onnx.data beside OUT.onnx (ONNX external data).
    /// </summary>
    /// <returns>the external data file, or null when the weights are inside the model file</returns>
    public static string? Export(Module<Tensor, Tensor> backbone, string network, string path, OnnxExportOptions options,
        long externalThresholdBytes = OnnxExternalData.DefaultThresholdBytes)
    {
        var model = Build(backbone, network, options);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{path}: directory {dir} does not exist");
        var external = OnnxExternalData.Needed(model, externalThresholdBytes) ? full + ".data" : null;
        string temp = full + ".tmp", tempData = full + ".data.tmp";
        try
        {
            // The data file is named by its final name inside the model, so it is renamed before the model.
            if (external is not null) OnnxExternalData.Move(model, tempData, Path.GetFileName(external));
            using (var stream = File.Create(temp)) model.WriteTo(stream);
            if (external is not null) File.Move(tempData, external, overwrite: true);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
            if (File.Exists(tempData)) File.Delete(tempData);
        }
        return external;
    }

    static long EmbeddingSize(Module backbone) => backbone switch
    {
        IResNet r => r.NumFeatures,
        MobileFaceNet m => m.NumFeatures,
        VisionTransformer v => v.NumFeatures,
        _ => throw new NotSupportedException($"ONNX export: {backbone.GetType().Name} is not a known backbone"),
    };

    static ValueInfoProto Value(string name, int? batch, params long[] rest)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch is { } b ? new TensorShapeProto.Types.Dimension { DimValue = b } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var d in rest) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
