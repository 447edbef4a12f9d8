using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// A pickle interpreter that understands exactly what <c>torch.save(state_dict)</c> writes and nothing more.
/// Unlike a general unpickler it never resolves an arbitrary global: GLOBAL opcodes naming anything outside a
/// small allow-list (OrderedDict, the tensor rebuild functions, the storage classes) are refused at once with
/// an error naming the global. Razorvine.Pickle (used by TorchSharp.PyBridge) cannot be restricted this way:
/// it turns any unknown global into a ClassDict through a process-wide constructor table.
/// </summary>
public sealed class RestrictedUnpickler
{
    /// <summary>Loads the raw bytes of storage <c>key</c>, checking they hold <c>numel</c> elements of <c>dtype</c>.</summary>
    public delegate byte[] StorageLoader(string key, ScalarType dtype, long numel);

    sealed record Global(string Module, string Name)
    {
        public override string ToString() => Module + "." + Name;
    }

    sealed record Storage(byte[] Bytes, ScalarType Type, long Numel);


    static readonly object Mark = new();

    static readonly HashSet<(string, string)> callables =
    [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_parameter"),
    ];

    readonly byte[] data;
    readonly string source;
    readonly StorageLoader loadStorage;
    readonly List<object?> stack = [];
    readonly Dictionary<long, object?> memo = [];
    readonly Dictionary<string, Storage> storages = [];
    int pos;

    RestrictedUnpickler(byte[] data, string source, StorageLoader loadStorage)
    {
        this.data = data;
        this.source = source;
        this.loadStorage = loadStorage;
    }

    /// <summary>
    /// Unpickles any object <c>torch.save</c> writes from plain data — dicts (<see cref="PickleDict"/>), lists
    /// (<c>List&lt;object?&gt;</c>), tuples (<c>object?[]</c>), str, int (long), float (double), bool, None (null) and
    /// tensors — such as a training checkpoint <c>{"epoch": 3, "state_dict_backbone": {...}, "state_optimizer": {...}}</c>.
    /// The same allow-list holds: no global outside it is ever resolved.
    /// </summary>
    public static object? Load(byte[] pickle, string source, StorageLoader loadStorage) =>
        new RestrictedUnpickler(pickle, source, loadStorage).Run();

    /// <summary>Unpickles a state_dict: (key, tensor) pairs in file order; tensors are fresh contiguous CPU copies.</summary>
    public static List<(string Key, Tensor Value)> LoadStateDict(byte[] pickle, string source, StorageLoader loadStorage)
    {
        var result = new RestrictedUnpickler(pickle, source, loadStorage).Run();
        if (result is not PickleDict dict)
            throw new InvalidDataException($"{source}: the pickle holds a {Describe(result)}, not a state_dict (a dict of name -> tensor)");
        var entries = new List<(string, Tensor)>(dict.Entries.Count);
        foreach (var (k, v) in dict.Items)
        {
            if (k is not string key)
                throw new InvalidDataException($"{source}: state_dict key {Describe(k)} is not a string");
            if (v is not Tensor t)
                throw new InvalidDataException(
                    $"{source}: state_dict entry '{key}' holds a {Describe(v)}, not a tensor" +
                    (v is PickleDict ? " (is this a training checkpoint rather than a plain state_dict?)" : ""));
            entries.Add((key, t));
        }
        return entries;
    }

    object? Run()
    {
        while (true)
        {
            if (pos >= data.Length) throw Bad("pickle ends without STOP");
            var at = pos;
            var op = data[pos++];
            switch (op)
            {
                case 0x80: if (ReadByte() > 5) throw Bad("unsupported pickle protocol"); break; // PROTO
                case 0x95: Take(8); break; // FRAME (length is informational)
                case (byte)'.': return stack.Count == 1 ? Pop() : throw Bad("STOP with a malformed stack");
                case (byte)'(': stack.Add(Mark); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopToMark(); break;
                case (byte)'2': stack.Add(Peek()); break;
                case (byte)'c': PushGlobal(ReadLine(), ReadLine(), at); break;
                case 0x93: { var name = Pop() as string; var module = Pop() as string; PushGlobal(module ?? throw Bad("STACK_GLOBAL module"), name ?? throw Bad("STACK_GLOBAL name"), at); break; }
                case (byte)'q': memo[ReadByte()] = Peek(); break;
                case (byte)'r': memo[ReadUInt32()] = Peek(); break;
                case (byte)'p': memo[ParseLong(ReadLine())] = Peek(); break;
                case 0x94: memo[memo.Count] = Peek(); break;
                case (byte)'h': stack.Add(Recall(ReadByte())); break;
                case (byte)'j': stack.Add(Recall(ReadUInt32())); break;
                case (byte)'g': stack.Add(Recall(ParseLong(ReadLine()))); break;
                case (byte)')': stack.Add(Array.Empty<object?>()); break;
                case (byte)'t': stack.Add(PopToMark().ToArray()); break;
                case 0x85: stack.Add(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; }
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)'l': stack.Add(PopToMark()); break;
                case (byte)'a': { var v = Pop(); As<List<object?>>(Peek(), "APPEND").Add(v); break; }
                case (byte)'e': { var items = PopToMark(); As<List<object?>>(Peek(), "APPENDS").AddRange(items); break; }
                case (byte)'}': stack.Add(new PickleDict()); break;
                case (byte)'d': { var items = PopToMark(); var d = new PickleDict(); AddPairs(d, items); stack.Add(d); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); Set(As<PickleDict>(Peek(), "SETITEM"), k, v); break; }
                case (byte)'u': { var items = PopToMark(); AddPairs(As<PickleDict>(Peek(), "SETITEMS"), items); break; }
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': stack.Add((long)ReadByte()); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: stack.Add(ReadLong1()); break;
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'X': stack.Add(Utf8(ReadUInt32())); break;
                case 0x8c: stack.Add(Utf8(ReadByte())); break;
                case 0x8d: { var n = BinaryPrimitives.ReadUInt64LittleEndian(Take(8)); stack.Add(Utf8(n > (ulong)data.Length ? -1 : (long)n)); break; }
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'Q': stack.Add(PersistentLoad(Pop())); break;
                case (byte)'R': { var args = Pop(); var fn = Pop(); stack.Add(Reduce(fn, args as object?[] ?? throw Bad("REDUCE arguments are not a tuple"))); break; }
                case (byte)'b': { var state = Pop(); Build(Peek(), state); break; }
                default: throw Bad($"unsupported pickle opcode 0x{op:x2} at offset {at} (not produced by torch.save of a state_dict)");
            }
        }
    }

    void PushGlobal(string module, string name, int at)
    {
        var isStorage = module == "torch" && StorageTypes.TryGetType(name, out _);
        if (!isStorage && !callables.Contains((module, name)))
            throw new InvalidDataException(
                $"{source}: the pickle references the Python global '{module}.{name}' (offset {at}), which a PyTorch " +
                "state_dict never needs; refusing to load it (the file may be a full model pickle or malicious)");
        stack.Add(new Global(module, name));
    }

    object PersistentLoad(object? pid)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] as string != "storage" || t[1] is not Global storageType
            || t[2] is not string key || t[4] is not long numel)
            throw Bad($"unexpected persistent id {Describe(pid)}; expected ('storage', type, key, location, numel)");
        if (!StorageTypes.TryGetType(storageType.Name, out var dtype) || storageType.Module != "torch")
            throw Bad($"persistent id names {storageType}, which is not a storage type");
        if (storages.TryGetValue(key, out var known)) return known;
        if (numel < 0) throw Bad($"storage '{key}' has negative size {numel}");
        var storage = new Storage(loadStorage(key, dtype, numel), dtype, numel);
        storages[key] = storage;
        return storage;
    }

    object? Reduce(object? fn, object?[] args)
    {
        if (fn is not Global g || !callables.Contains((g.Module, g.Name)))
            throw Bad($"REDUCE applied to {Describe(fn)}, which is not callable here");
        switch (g.Name)
        {
            case "OrderedDict":
                if (args.Length != 0) throw Bad("OrderedDict built with arguments");
                return new PickleDict { Ordered = true };
            case "_rebuild_tensor_v2" when args.Length is 6 or 7:
            case "_rebuild_tensor" when args.Length == 4:
                return RebuildTensor(args[0], args[1], args[2], args[3]);
            case "_rebuild_parameter" when args.Length == 3 && args[0] is Tensor data:
                return data;
            default:
                throw Bad($"{g} called with {args.Length} unexpected argument(s)");
        }
    }

    Tensor RebuildTensor(object? storageObj, object? offsetObj, object? sizeObj, object? strideObj)
    {
        if (storageObj is not Storage storage) throw Bad("tensor without a persistent storage");
        var offset = offsetObj as long? ?? throw Bad("tensor storage offset is not an integer");
        var size = Longs(sizeObj, "size");
        var stride = Longs(strideObj, "stride");
        if (size.Length != stride.Length) throw Bad($"tensor size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] differ in rank");
        if (offset < 0 || size.Any(s => s < 0) || stride.Any(s => s < 0)) throw Bad("negative tensor size, stride or offset");
        if (!size.Contains(0))
        {
            // Checked: wrapped-around sums would pass the bound and let as_strided read outside the storage, and a
            // view larger than its storage (stride 0) would make clone() allocate whatever the file claims.
            long last, numel;
            try
            {
                last = checked(offset + size.Zip(stride, (s, st) => checked((s - 1) * st)).Sum());
                numel = size.Aggregate(1L, (a, b) => checked(a * b));
            }
            catch (OverflowException) { throw Bad($"tensor view [{string.Join(", ", size)}] / stride [{string.Join(", ", stride)}] overflows 64 bits"); }
            if (last >= storage.Numel)
                throw Bad($"tensor view [{string.Join(", ", size)}] at offset {offset} reaches element {last} of a {storage.Numel}-element storage");
            if (numel > storage.Numel)
                throw Bad($"tensor view [{string.Join(", ", size)}] has {numel} elements, more than its {storage.Numel}-element storage (a state_dict never holds expanded views)");
        }
        using var flat = empty(storage.Numel, storage.Type);
        if (storage.Numel > 0) flat.bytes = storage.Bytes;
        using var view = flat.as_strided(size, stride, offset);
        return view.clone();
    }

    void Build(object? target, object? state)
    {
        // torch attaches state_dict._metadata (module versions) as instance state; only version-1 module
        // formats exist for the backbones here, so it is validated for shape and otherwise ignored.
        if (target is PickleDict { Ordered: true } && state is PickleDict attrs && attrs.Items.All(kv => kv.Key as string == "_metadata"))
            return;
        throw Bad($"BUILD on {Describe(target)} with state {Describe(state)} is not part of a state_dict");
    }

    static long[] Longs(object? tuple, string what) =>
        tuple is object?[] items && items.All(i => i is long)
            ? items.Select(i => (long)i!).ToArray()
            : throw new InvalidDataException($"tensor {what} is not a tuple of integers");

    void AddPairs(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Bad("odd number of dict items");
        for (var i = 0; i < items.Count; i += 2) Set(dict, items[i], items[i + 1]);
    }

    void Set(PickleDict dict, object? key, object? value)
    {
        if (key is not (string or long or bool)) throw Bad($"dict key of type {Describe(key)}");
        if (dict.Index.TryGetValue(key, out var index)) dict.Entries[index] = new(key, value);
        else
        {
            dict.Index[key] = dict.Entries.Count;
            dict.Entries.Add(new(key, value));
        }
    }

    object? Pop()
    {
        if (stack.Count == 0) throw Bad("stack underflow");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        if (ReferenceEquals(v, Mark)) throw Bad("unexpected MARK");
        return v;
    }

    object? Peek() => stack.Count > 0 && !ReferenceEquals(stack[^1], Mark) ? stack[^1] : throw Bad("empty stack");

    List<object?> PopToMark()
    {
        var m = stack.FindLastIndex(o => ReferenceEquals(o, Mark));
        if (m < 0) throw Bad("missing MARK");
        var items = stack.GetRange(m + 1, stack.Count - m - 1);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    object? Recall(long index) => memo.TryGetValue(index, out var v) ? v : throw Bad($"memo index {index} not set");

    T As<T>(object? o, string op) where T : class => o as T ?? throw Bad($"{op} applied to a {Describe(o)}");

    byte ReadByte() => Take(1)[0];
    long ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > data.Length - pos) throw Bad("pickle truncated");
        var span = data.AsSpan(pos, (int)n);
        pos += (int)n;
        return span;
    }

    string Utf8(long n) => Encoding.UTF8.GetString(Take(n));

    string ReadLine()
    {
        var end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0) throw Bad("unterminated text argument");
        var s = Encoding.ASCII.GetString(data, pos, end - pos);
        pos = end + 1;
        return s;
    }

    long ReadLong1()
    {
        var bytes = Take(ReadByte());
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (long)v : throw Bad("integer does not fit in 64 bits");
    }

    long ParseLong(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw Bad($"'{text}' is not a 64-bit integer");

    InvalidDataException Bad(string what) => new($"{source}: malformed state_dict pickle: {what}");

    static string Describe(object? o) => o switch
    {
        null => "None",
        Global g => $"global {g}",
        PickleDict => "dict",
        Tensor => "tensor",
        Storage => "storage",
        object?[] t => $"tuple of {t.Length}",
        _ => o.GetType().Name,
    };
}
