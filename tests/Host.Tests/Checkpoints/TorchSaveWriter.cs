using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.Checkpoints;

/// <summary>A Python dict to pickle: items in order; an OrderedDict with torch's `_metadata` when <see cref="Metadata"/> is set (a state_dict).</summary>
public sealed record PyDict(IReadOnlyList<(object Key, object? Value)> Items, IReadOnlyList<(string Path, int Version)>? Metadata = null,
    bool Ordered = false);

/// <summary>A Python tuple (C# arrays of objects are tuples; <see cref="List{T}"/> of objects are lists).</summary>
public sealed record PyTuple(params object?[] Items);

/// <summary>A Python global in the pickle (for testing that the restricted reader refuses it).</summary>
public sealed record PyGlobal(string Module, string Name);

/// <summary>
/// Writes what `torch.save(obj, path)` writes for plain-data objects (dicts, OrderedDict state_dicts, lists, tuples,
/// str, int, float, bool, None, tensors): the zip container with data.pkl in pickle protocol 2 (the opcodes CPython's
/// pickler emits: EMPTY_DICT/SETITEMS, EMPTY_LIST/APPENDS, TUPLE1-3, BININT*, BINFLOAT, BINUNICODE, REDUCE of
/// _rebuild_tensor_v2 with a ('storage', ...) persistent id, BUILD with _metadata) and one raw storage per tensor.
/// Test-only: it lets CI write arcface_torch's checkpoint_gpu_{rank}.pt layout without PyTorch.
/// </summary>
public sealed class TorchSaveWriter
{
    private readonly MemoryStream _out = new();
    private readonly List<Tensor> _storages = [];
    private int _memo;

    public static void Save(string path, object? value)
    {
        var w = new TorchSaveWriter();
        w.Op(0x80); w.Op(2);
        w.Value(value);
        w.Op((byte)'.');
        using var stream = File.Create(path);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", w._out.ToArray());
        Add(zip, "archive/byteorder", "little"u8.ToArray());
        for (var i = 0; i < w._storages.Count; i++)
        {
            using var c = w._storages[i].contiguous();
            Add(zip, $"archive/data/{i}", c.numel() == 0 ? [] : c.bytes.ToArray());
        }
        Add(zip, "archive/version", "3\n"u8.ToArray());
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(bytes);
    }

    private void Value(object? v)
    {
        switch (v)
        {
            case null: Op((byte)'N'); break;
            case bool b: Op(b ? (byte)0x88 : (byte)0x89); break;
            case int i: Int(i); break;
            case long l: Int(l); break;
            case double d: { Op((byte)'G'); Span<byte> b8 = stackalloc byte[8]; BinaryPrimitives.WriteDoubleBigEndian(b8, d); Bytes(b8); break; }
            case string s: Str(s); break;
            case Tensor t: TensorValue(t); break;
            case PyTuple t: Tuple(t.Items); break;
            case List<object?> list:
                Op((byte)']'); Memo();
                Batched(list.Count, i => Value(list[i]), (byte)'a', (byte)'e');
                break;
            case PyDict d: Dict(d); break;
            case PyGlobal g: Global(g.Module, g.Name); break;
            default: throw new ArgumentException($"cannot pickle {v.GetType().Name}");
        }
    }

    private void Dict(PyDict d)
    {
        if (d.Metadata is null && !d.Ordered) { Op((byte)'}'); Memo(); }
        else { Global("collections", "OrderedDict"); Op((byte)')'); Op((byte)'R'); Memo(); }
        Batched(d.Items.Count, i => { Value(d.Items[i].Key); Value(d.Items[i].Value); }, (byte)'s', (byte)'u');
        if (d.Metadata is { } meta)
        {
            var versions = meta.Select(m => ((object)m.Path, (object?)new PyDict([("version", m.Version)]))).ToList();
            Value(new PyDict([("_metadata", new PyDict(versions, Ordered: true))]));
            Op((byte)'b');
        }
    }

    private void TensorValue(Tensor t)
    {
        var key = _storages.Count.ToString();
        _storages.Add(t.detach().cpu());
        Global("torch._utils", "_rebuild_tensor_v2");
        Op((byte)'(');
        Value(new PyTuple("storage", new PyGlobal("torch", StorageTypes.NameOf(t.dtype)), key, "cpu", t.numel()));
        Op((byte)'Q');
        Int(0);
        Tuple(t.shape.Select(x => (object?)x).ToArray());
        var strides = new long[t.shape.Length];
        long s = 1;
        for (var i = strides.Length - 1; i >= 0; i--) { strides[i] = s; s *= t.shape[i]; }
        Tuple(strides.Select(x => (object?)x).ToArray());
        Op(0x89);
        Global("collections", "OrderedDict"); Op((byte)')'); Op((byte)'R'); Memo();
        Op((byte)'t'); Memo();
        Op((byte)'R'); Memo();
    }

    private void Tuple(object?[] items)
    {
        if (items.Length == 0) { Op((byte)')'); return; }
        if (items.Length > 3) Op((byte)'(');
        foreach (var i in items) Value(i);
        Op(items.Length switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => (byte)'t' });
        Memo();
    }

    private void Batched(int count, Action<int> write, byte single, byte many)
    {
        for (var start = 0; start < count; start += 1000)
        {
            var n = Math.Min(1000, count - start);
            if (n > 1) Op((byte)'(');
            for (var i = start; i < start + n; i++) write(i);
            Op(n > 1 ? many : single);
        }
    }

    private void Global(string module, string name)
    {
        Op((byte)'c');
        Bytes(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        Memo();
    }

    private void Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        Op((byte)'X');
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)utf8.Length);
        Bytes(len);
        Bytes(utf8);
        Memo();
    }

    private void Int(long v)
    {
        Span<byte> b = stackalloc byte[8];
        if (v is >= 0 and <= 0xff) { Op((byte)'K'); Op((byte)v); }
        else if (v is >= 0 and <= 0xffff) { Op((byte)'M'); BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); Bytes(b[..2]); }
        else if (v is >= int.MinValue and <= int.MaxValue) { Op((byte)'J'); BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); Bytes(b[..4]); }
        else { var bytes = new System.Numerics.BigInteger(v).ToByteArray(); Op(0x8a); Op((byte)bytes.Length); Bytes(bytes); }
    }

    private void Memo()
    {
        var index = _memo++;
        if (index < 256) { Op((byte)'q'); Op((byte)index); }
        else { Op((byte)'r'); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)index); Bytes(b); }
    }

    private void Op(byte b) => _out.WriteByte(b);
    private void Bytes(ReadOnlySpan<byte> b) => _out.Write(b);
}
