using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

/// <summary>
/// A small self-describing file of named tensors plus string metadata, used for Partial FC shards and trainer state.
/// Layout: "AFTARCH1" (8 bytes) | int32 header length | UTF-8 JSON header {meta, tensors:[{name,dtype,shape}]} |
/// raw little-endian tensor bytes in header order. Written to "path.tmp" and renamed, so a crash never leaves a torn file.
/// </summary>
public static class TensorArchive
{
    static readonly byte[] Magic = "AFTARCH1"u8.ToArray();
    static readonly ScalarType[] Supported = { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.BFloat16, ScalarType.Float16 };

    sealed record Entry(string Name, string Dtype, long[] Shape);
    sealed record Header(Dictionary<string, string> Meta, List<Entry> Tensors);

    public static void Write(string path, IReadOnlyDictionary<string, string> meta, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, t) in tensors)
            if (!Supported.Contains(t.dtype)) throw new ArgumentException($"{path}: tensor '{name}' has unsupported dtype {t.dtype}");
        var header = new Header(new Dictionary<string, string>(meta),
            tensors.Select(kv => new Entry(kv.Key, kv.Value.dtype.ToString(), kv.Value.shape)).ToList());
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var w = new BinaryWriter(fs))
        {
            w.Write(Magic);
            w.Write(json.Length);
            w.Write(json);
            foreach (var (_, t) in tensors)
            {
                using var c = t.detach().cpu().contiguous();
                w.Write(c.bytes);
            }
            w.Flush();
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static (Dictionary<string, string> Meta, Dictionary<string, Tensor> Tensors) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tensor archive {path} does not exist", path);
        using var fs = File.OpenRead(path);
        using var r = new BinaryReader(fs);
        var magic = r.ReadBytes(Magic.Length);
        if (!magic.SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not an ActorFace tensor archive (bad magic)");
        var len = r.ReadInt32();
        if (len <= 0 || len > fs.Length) throw new InvalidDataException($"{path}: corrupt header length {len}");
        var header = JsonSerializer.Deserialize<Header>(r.ReadBytes(len))
                     ?? throw new InvalidDataException($"{path}: empty header");
        var result = new Dictionary<string, Tensor>();
        foreach (var e in header.Tensors)
        {
            if (!Enum.TryParse<ScalarType>(e.Dtype, out var dtype) || !Supported.Contains(dtype))
                throw new InvalidDataException($"{path}: tensor '{e.Name}' has unsupported dtype '{e.Dtype}'");
            var t = torch.empty(e.Shape, dtype);
            var bytes = r.ReadBytes(checked((int)(t.numel() * t.ElementSize)));
            if (bytes.Length != t.numel() * t.ElementSize) throw new InvalidDataException($"{path}: truncated data of tensor '{e.Name}'");
            t.bytes = bytes;
            result[e.Name] = t;
        }
        if (fs.Position != fs.Length) throw new InvalidDataException($"{path}: {fs.Length - fs.Position} unexpected trailing bytes");
        return (header.Meta, result);
    }

    public static string Require(this IReadOnlyDictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: missing metadata key '{key}'");

    public static Tensor Require(this IReadOnlyDictionary<string, Tensor> tensors, string key, string path) =>
        tensors.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{path}: missing tensor '{key}'");
}
