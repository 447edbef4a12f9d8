using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// The zip container of <c>torch.save</c> (PyTorch ≥ 1.6): <c>&lt;root&gt;/data.pkl</c> (the pickle),
/// <c>&lt;root&gt;/data/&lt;key&gt;</c> (raw little-endian storages), <c>&lt;root&gt;/version</c>.
/// </summary>
public static class PthArchive
{
    /// <summary>Reads a state_dict file: (key, tensor) in file order. Never runs pickled code (see RestrictedUnpickler).</summary>
    public static List<(string Key, Tensor Value)> Read(string path) =>
        Open(path, (pickle, storages) => RestrictedUnpickler.LoadStateDict(pickle, path, storages));

    /// <summary>Reads any plain-data object saved with torch.save (a training checkpoint dict, say) through the
    /// restricted unpickler: see <see cref="RestrictedUnpickler.Load"/> for what comes back.</summary>
    public static object? ReadObject(string path) =>
        Open(path, (pickle, storages) => RestrictedUnpickler.Load(pickle, path, storages));

    static T Open<T>(string path, Func<byte[], RestrictedUnpickler.StorageLoader, T> unpickle)
    {
        try { return ReadArchive(path, unpickle); }
        catch (InvalidDataException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            // System.IO.Compression's own messages ("End of Central Directory record could not be found") name no file.
            throw new InvalidDataException($"{path}: not a readable PyTorch zip archive, truncated or corrupt ({e.Message})", e);
        }
    }

    /// <summary>Largest weight file opened (streamed; each entry is still checked against the file's size).</summary>
    public const long MaxFileBytes = 64L << 30;

    static T ReadArchive<T>(string path, Func<byte[], RestrictedUnpickler.StorageLoader, T> unpickle)
    {
        // Regular files only: a FIFO would block forever and /dev/zero look like an endless archive.
        using var stream = ActorFace.Model.Formats.RegularFile.OpenRead(path, "weights", MaxFileBytes);
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || magic[0] != 'P' || magic[1] != 'K')
            throw new InvalidDataException(
                $"{path}: not a zip-format PyTorch file (legacy torch.save format or not a weight file); " +
                "re-save it with torch >= 1.6 (torch.save(obj, path))");
        stream.Position = 0;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl") && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pickles.Count != 1)
            throw new InvalidDataException($"{path}: expected exactly one <root>/data.pkl in the archive, found {pickles.Count}");
        var root = pickles[0].FullName[..^"data.pkl".Length];
        var byteOrder = zip.GetEntry(root + "byteorder");
        if (byteOrder != null && Encoding.ASCII.GetString(ReadAll(byteOrder, path, stream.Length)).Trim() != "little")
            throw new InvalidDataException($"{path}: storages are big-endian; only little-endian files are supported");

        byte[] LoadStorage(string key, ScalarType dtype, long numel)
        {
            var entry = zip.GetEntry(root + "data/" + key)
                ?? throw new InvalidDataException($"{path}: storage '{key}' referenced by data.pkl is missing from the archive");
            var expected = numel > long.MaxValue / 16 ? -1 : numel * StorageTypes.ElementSize(dtype);
            if (entry.Length != expected)
                throw new InvalidDataException($"{path}: storage '{key}' has {entry.Length} bytes, expected {numel} x {dtype} = {expected}");
            return ReadAll(entry, path, stream.Length);
        }

        return unpickle(ReadAll(pickles[0], path, stream.Length), LoadStorage);
    }

    /// <summary>Writes (key, tensor) pairs as PyTorch's torch.save(state_dict) does; tensors may live on any device.</summary>
    public static void Write(string path, IReadOnlyList<(string Key, Tensor Tensor)> entries, IReadOnlyList<(string Path, int Version)> moduleVersions)
    {
        var cpu = entries.Select(e => (e.Key, e.Tensor.detach().cpu().contiguous())).ToList();
        var tmp = path + ".tmp";
        try
        {
            var (pickle, storages) = StateDictPickler.Write(cpu, moduleVersions);
            var root = RootName(path);
            using (var stream = File.Create(tmp))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
            {
                // torch stores entries uncompressed: data.pkl, byteorder, storages in sorted-key order, version.
                Add(zip, root + "/data.pkl", pickle);
                Add(zip, root + "/byteorder", "little"u8.ToArray());
                foreach (var (key, tensor) in storages.OrderBy(s => s.Key, StringComparer.Ordinal))
                    Add(zip, root + "/data/" + key, tensor.numel() == 0 ? [] : tensor.bytes.ToArray());
                Add(zip, root + "/version", "3\n"u8.ToArray());
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(tmp)) File.Delete(tmp); // a full disk must not keep a half-written copy (and its space)
            throw;
        }
        finally
        {
            foreach (var (_, t) in cpu) t.Dispose();
        }
    }

    static string RootName(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var clean = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
        return clean.Length == 0 ? "archive" : clean;
    }

    static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var s = entry.Open();
        s.Write(bytes);
    }

    /// <summary>Deflate cannot expand more than ~1032:1; torch stores entries uncompressed (1:1).</summary>
    const long MaxExpansion = 1032;

    static byte[] ReadAll(ZipArchiveEntry entry, string path, long archiveBytes)
    {
        if (entry.Length > Array.MaxLength)
            throw new InvalidDataException($"{path}: archive entry {entry.FullName} is larger than 2 GiB, which this reader does not support");
        // Sizes are read from the zip directory: check them against the file before allocating, so a corrupt or
        // crafted length field cannot make us allocate more than the file could possibly hold.
        if (entry.CompressedLength > archiveBytes || entry.Length > entry.CompressedLength * MaxExpansion + 64)
            throw new InvalidDataException(
                $"{path}: archive entry {entry.FullName} claims {entry.Length} bytes ({entry.CompressedLength} compressed) in a {archiveBytes}-byte file (corrupt or crafted)");
        var bytes = new byte[entry.Length];
        try
        {
            using var s = entry.Open();
            s.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: archive entry {entry.FullName} is shorter than its declared {entry.Length} bytes (truncated or corrupt)", e);
        }
        return bytes;
    }
}
