using System.Text;

namespace ActorFace.Tests;

/// <summary>
/// Hand-encodes (protobuf) an ONNX model `out = ReduceMean(data, axes=[2,3], keepdims=0)`: input [batch,3,size,size]
/// float32 → output [batch,3], i.e. the mean of each normalised input channel. batch = null gives a symbolic "N".
/// <see cref="WriteBlockMax"/> writes a longer, repeatable one for tests that compare outputs of separate runs.
/// </summary>
public static class TinyOnnxModel
{
    public static void Write(string path, int? batch, int size = 112)
    {
        var node = Msg(Str(1, "data"), Str(2, "out"), Str(3, "mean"), Str(4, "ReduceMean"),
            Field(5, Msg(Str(1, "axes"), Varint(20, 7), Varint(8, 2), Varint(8, 3))),
            Field(5, Msg(Str(1, "keepdims"), Varint(20, 2), Varint(3, 0))));
        WriteGraph(path, [node], batch, size, outputs: 3);
    }

    /// <summary>Output length of <see cref="WriteBlockMax"/>: 3 channels x 7 x 7 blocks.</summary>
    public const int BlockMaxDimensions = 3 * 7 * 7;

    /// <summary>
    /// `out = Flatten(MaxPool(data, 16x16 blocks))`: [N,3,112,112] → [N,147], a stand-in face model whose output
    /// depends on where things are in the image, and is bit-for-bit repeatable (a max has no summation order).
    /// </summary>
    public static void WriteBlockMax(string path)
    {
        var pool = Msg(Str(1, "data"), Str(2, "pooled"), Str(3, "pool"), Str(4, "MaxPool"),
            Field(5, Msg(Str(1, "kernel_shape"), Varint(20, 7), Varint(8, 16), Varint(8, 16))),
            Field(5, Msg(Str(1, "strides"), Varint(20, 7), Varint(8, 16), Varint(8, 16))));
        var flatten = Msg(Str(1, "pooled"), Str(2, "out"), Str(3, "flatten"), Str(4, "Flatten"),
            Field(5, Msg(Str(1, "axis"), Varint(20, 2), Varint(3, 1))));
        WriteGraph(path, [pool, flatten], batch: null, size: 112, outputs: BlockMaxDimensions);
    }

    static void WriteGraph(string path, byte[][] nodes, int? batch, int size, int outputs)
    {
        var graph = Msg([.. nodes.Select(n => Field(1, n)), Str(2, "tiny"),
            Field(11, ValueInfo("data", Dim(batch), Dim(3), Dim(size), Dim(size))),
            Field(12, ValueInfo("out", Dim(batch), Dim(outputs)))]);
        var model = Msg(Varint(1, 7), Field(8, Msg(Str(1, ""), Varint(2, 13))), Field(7, graph));
        File.WriteAllBytes(path, model);
    }

    static byte[] ValueInfo(string name, params byte[][] dims) =>
        Msg(Str(1, name), Field(2, Msg(Field(1, Msg(Varint(1, 1), Field(2, Msg(dims.Select(d => Field(1, d)).ToArray())))))));

    static byte[] Dim(int? value) => value is { } v ? Varint(1, v) : Str(2, "N");

    static byte[] Msg(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    static byte[] Str(int field, string s) => Field(field, Encoding.UTF8.GetBytes(s));

    static byte[] Field(int field, byte[] payload) => Msg(Raw((ulong)(field << 3 | 2)), Raw((ulong)payload.Length), payload);

    static byte[] Varint(int field, long value) => Msg(Raw((ulong)(field << 3)), Raw((ulong)value));

    static byte[] Raw(ulong v)
    {
        var bytes = new List<byte>();
        do { byte b = (byte)(v & 0x7f); v >>= 7; bytes.Add(v != 0 ? (byte)(b | 0x80) : b); } while (v != 0);
        return bytes.ToArray();
    }
}
