using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// Writes the data.pkl of a <c>torch.save(state_dict)</c> archive opcode for opcode as CPython's protocol-2
/// pickler does (same memo numbering, same batching, same <c>_metadata</c> state), so PyTorch reads our files
/// exactly like its own. Tensor bytes go to the archive as storages <c>"0"</c>, <c>"1"</c>, … in key order.
/// </summary>
public sealed class StateDictPickler
{
    const int BatchSize = 1000; // pickle._Pickler._BATCHSIZE

    readonly MemoryStream output = new();
    readonly Dictionary<string, int> globals = [];
    readonly Dictionary<string, int> interned = [];
    int memoCount;

    /// <param name="entries">state_dict keys with contiguous CPU tensors</param>
    /// <param name="moduleVersions">torch's _metadata: module path → class _version</param>
    /// <returns>the pickle bytes and, per storage key, the tensor whose bytes it holds</returns>
    public static (byte[] Pickle, List<(string Key, Tensor Tensor)> Storages) Write(
        IReadOnlyList<(string Key, Tensor Tensor)> entries, IReadOnlyList<(string Path, int Version)> moduleVersions)
    {
        var p = new StateDictPickler();
        var storages = new List<(string, Tensor)>();
        p.Op(0x80); p.Op(2); // PROTO 2
        p.Global("collections", "OrderedDict");
        p.Op((byte)')'); p.Op((byte)'R'); p.Memoize();
        p.Batched(entries.Count, i =>
        {
            var (key, tensor) = entries[i];
            p.NewString(key);
            var storageKey = storages.Count.ToString();
            storages.Add((storageKey, tensor));
            p.TensorReduce(tensor, storageKey);
        });
        // state: {'_metadata': OrderedDict(path -> {'version': v})}
        p.Op((byte)'}'); p.Memoize();
        p.NewString("_metadata");
        p.Global("collections", "OrderedDict");
        p.Op((byte)')'); p.Op((byte)'R'); p.Memoize();
        p.Batched(moduleVersions.Count, i =>
        {
            var (path, version) = moduleVersions[i];
            // CPython shares the empty string object, so the root path "" is memoized like an interned literal.
            if (path.Length == 0) p.InternedString(path); else p.NewString(path);
            p.Op((byte)'}'); p.Memoize();
            p.InternedString("version");
            p.Int(version);
            p.Op((byte)'s');
        });
        p.Op((byte)'s'); // SETITEM '_metadata'
        p.Op((byte)'b'); // BUILD
        p.Op((byte)'.');
        return (p.output.ToArray(), storages);
    }

    void TensorReduce(Tensor t, string storageKey)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Op((byte)'(');
        // persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
        Op((byte)'(');
        InternedString("storage");
        Global("torch", StorageTypes.NameOf(t.dtype));
        NewString(storageKey);
        InternedString("cpu");
        Int(t.numel());
        Op((byte)'t'); Memoize();
        Op((byte)'Q');
        Int(0); // storage offset: every tensor owns a contiguous storage
        Tuple(t.shape);
        Tuple(ContiguousStrides(t.shape));
        Op(0x89); // requires_grad False: state_dict tensors are detached
        Global("collections", "OrderedDict");
        Op((byte)')'); Op((byte)'R'); Memoize(); // backward_hooks = OrderedDict()
        Op((byte)'t'); Memoize();
        Op((byte)'R'); Memoize();
    }

    static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (var i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    void Batched(int count, Action<int> writePair)
    {
        for (var start = 0; start < count; start += BatchSize)
        {
            var n = Math.Min(BatchSize, count - start);
            if (n > 1) Op((byte)'(');
            for (var i = start; i < start + n; i++) writePair(i);
            Op(n > 1 ? (byte)'u' : (byte)'s');
        }
    }

    void Tuple(long[] items)
    {
        if (items.Length == 0) { Op((byte)')'); return; } // the empty tuple is a singleton: never memoized
        if (items.Length > 3) Op((byte)'(');
        foreach (var v in items) Int(v);
        Op(items.Length switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => (byte)'t' });
        Memoize();
    }

    void Global(string module, string name)
    {
        var key = module + "\n" + name;
        if (globals.TryGetValue(key, out var index)) { Get(index); return; }
        Op((byte)'c');
        Bytes(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        globals[key] = memoCount;
        Memoize();
    }

    // A fresh Python str object: always written and memoized.
    void NewString(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        Op((byte)'X');
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)utf8.Length);
        Bytes(len);
        Bytes(utf8);
        Memoize();
    }

    // A literal that is one shared object in CPython ('storage', 'cpu', 'version', ''): written once, then recalled.
    void InternedString(string s)
    {
        if (interned.TryGetValue(s, out var index)) { Get(index); return; }
        interned[s] = memoCount;
        NewString(s);
    }

    void Int(long v)
    {
        Span<byte> b = stackalloc byte[8];
        if (v is >= 0 and <= 0xff) { Op((byte)'K'); Op((byte)v); }
        else if (v is >= 0 and <= 0xffff) { Op((byte)'M'); BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); Bytes(b[..2]); }
        else if (v is >= int.MinValue and <= int.MaxValue) { Op((byte)'J'); BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); Bytes(b[..4]); }
        else
        {
            var bytes = new System.Numerics.BigInteger(v).ToByteArray(); // minimal two's complement, little-endian
            Op(0x8a); Op((byte)bytes.Length); Bytes(bytes);
        }
    }

    void Memoize()
    {
        var index = memoCount++;
        if (index < 256) { Op((byte)'q'); Op((byte)index); }
        else { Op((byte)'r'); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)index); Bytes(b); }
    }

    void Get(int index)
    {
        if (index < 256) { Op((byte)'h'); Op((byte)index); }
        else { Op((byte)'j'); Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)index); Bytes(b); }
    }

    void Op(byte b) => output.WriteByte(b);
    void Bytes(ReadOnlySpan<byte> b) => output.Write(b);
}
