using Google.Protobuf;
using Onnx;

namespace ActorFace.Model.Evaluation;

/// <summary>
/// Turns a model exported with a fixed batch of 1 (PyTorch's default export, e.g. fr_feature.onnx) into one with a
/// symbolic batch, so ONNX Runtime can run many faces per call instead of one tiny run per face. The rewrite is only
/// done when it is provably safe for a feed-forward face model: the single input and the outputs have a leading
/// dimension of 1, and every Reshape gets its target shape from a constant whose leading entry is 1 (the flatten
/// before the embedding layer), which becomes 0 ("copy the batch from the input"). Any other node that could fix the
/// batch (a Reshape with a computed shape, Expand, Tile, ConstantOfShape, …) leaves the model as it is.
/// </summary>
internal static class OnnxBatchRewriter
{
    const string BatchParam = "batch";

    // Ops whose output shape comes from a tensor rather than from their input: a constant there may pin the batch.
    static readonly HashSet<string> ShapeFromTensorOps = ["Expand", "Tile", "ConstantOfShape", "Resize", "Upsample", "Slice", "Range", "Shape", "Size"];

    /// <summary>Rewrites the model in place and returns true, or leaves it untouched and returns false with the reason.</summary>
    public static bool TryRewrite(ModelProto model, out string reason)
    {
        var graph = model.Graph;
        // A rewritten model is handed to ONNX Runtime as bytes, so weights kept beside the file could not be found.
        if (graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
        {
            reason = "its weights are external data";
            return false;
        }
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        if (inputs.Count != 1 || !LeadingDimIsOne(inputs[0])) { reason = "the input's batch dimension is not a fixed 1"; return false; }
        if (graph.Output.Count == 0 || !graph.Output.All(LeadingDimIsOne)) { reason = "an output's leading dimension is not a fixed 1"; return false; }
        if (graph.Node.FirstOrDefault(n => ShapeFromTensorOps.Contains(n.OpType)) is { } pinned)
        {
            reason = $"node '{pinned.Name}' ({pinned.OpType}) may fix the batch";
            return false;
        }

        var constants = graph.Initializer.ToDictionary(t => t.Name);
        foreach (var node in graph.Node.Where(n => n.OpType == "Constant"))
            if (node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } t } && node.Output.Count == 1)
                constants[node.Output[0]] = t;
        var shapes = new Dictionary<string, TensorProto>(); // one shape constant may feed several Reshapes
        foreach (var reshape in graph.Node.Where(n => n.OpType == "Reshape"))
        {
            if (reshape.Input.Count < 2 || !constants.TryGetValue(reshape.Input[1], out var shape) || !StartsWithOne(shape))
            {
                reason = $"Reshape '{reshape.Name}' has no constant target shape starting with 1";
                return false;
            }
            shapes[reshape.Input[1]] = shape;
        }

        foreach (var shape in shapes.Values) SetLeadingToCopy(shape);
        SetLeadingSymbolic(inputs[0]);
        foreach (var o in graph.Output) SetLeadingSymbolic(o);
        graph.ValueInfo.Clear(); // the exporter's intermediate shapes all say batch 1; ONNX Runtime re-infers them
        reason = "";
        return true;
    }

    static bool LeadingDimIsOne(ValueInfoProto v) =>
        v.Type?.TensorType?.Shape is { Dim.Count: > 0 } s && s.Dim[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && s.Dim[0].DimValue == 1;

    static void SetLeadingSymbolic(ValueInfoProto v) =>
        v.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchParam };

    static bool StartsWithOne(TensorProto shape) =>
        shape.DataType == (int)TensorProto.Types.DataType.Int64 && shape.Dims.Count == 1 && shape.Dims[0] >= 1
        && (shape.Int64Data.Count > 0 ? shape.Int64Data[0] == 1
            : shape.RawData.Length == 8 * shape.Dims[0] && BitConverter.ToInt64(shape.RawData.Span[..8]) == 1); // raw data is little-endian

    /// <summary>[1, …] → [0, …]: Reshape's 0 copies the input's dimension, here the batch.</summary>
    static void SetLeadingToCopy(TensorProto shape)
    {
        if (shape.Int64Data.Count > 0) { shape.Int64Data[0] = 0; return; }
        var raw = shape.RawData.ToByteArray();
        BitConverter.TryWriteBytes(raw.AsSpan(0, 8), 0L);
        shape.RawData = ByteString.CopyFrom(raw);
    }
}
