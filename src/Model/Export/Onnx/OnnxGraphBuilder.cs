using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace ActorFace.Model.Export.Onnx;

/// <summary>
/// Accumulates an ONNX graph (nodes, float32/int64 initializers) with unique value names. Weights keep their PyTorch
/// state_dict key as initializer name, so an exported file can be read side by side with the .pth.
/// </summary>
internal sealed class OnnxGraphBuilder(int opset)
{
    readonly HashSet<string> names = [];
    int counter;

    public GraphProto Graph { get; } = new() { Name = "actorface" };
    public int Opset { get; } = opset;

    /// <summary>A fresh value name derived from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        var name = $"{hint}_{counter++}";
        names.Add(name);
        return name;
    }

    /// <summary>Adds a float32 initializer with a copy of <paramref name="value"/> (any dtype, any device).</summary>
    public string Weight(string name, Tensor value)
    {
        if (!names.Add(name)) throw new InvalidOperationException($"ONNX initializer '{name}' added twice");
        using var f = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var data = f.data<float>().ToArray();
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(f.shape);
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an int64 vector initializer (shapes, axes).</summary>
    public string Int64s(string hint, params long[] values)
    {
        var name = Fresh(hint);
        var bytes = new byte[values.Length * sizeof(long)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.Add(values.Length);
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A float32 scalar initializer (epsilons, scales).</summary>
    public string Scalar(string hint, float value)
    {
        var name = Fresh(hint);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) };
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Appends one node and returns its (single) output name.</summary>
    public string Node(string opType, string hint, string[] inputs, params AttributeProto[] attributes)
    {
        var output = Fresh(hint);
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>Renames the value <paramref name="from"/> (an output of the last node) to <paramref name="to"/>.</summary>
    public void RenameLastOutput(string from, string to)
    {
        var last = Graph.Node[^1];
        if (last.Output[0] != from) throw new InvalidOperationException($"'{from}' is not the last node's output");
        last.Output[0] = to;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
