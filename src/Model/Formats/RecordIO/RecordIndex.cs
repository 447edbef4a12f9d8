using System.Globalization;
using ActorFace.Model.Data;

namespace ActorFace.Model.Formats.RecordIO;

/// <summary>
/// A parsed <c>.idx</c> file: "key\toffset" per line, kept in file order (MXIndexedRecordIO.keys) plus a
/// key -> offset map.
/// </summary>
public sealed class RecordIndex
{
    readonly Dictionary<long, long> offsets;

    public string Path { get; }
    public IReadOnlyList<long> Keys { get; }

    RecordIndex(string path, List<long> keys, Dictionary<long, long> offsets)
    {
        Path = path;
        Keys = keys;
        this.offsets = offsets;
    }

    public bool Contains(long key) => offsets.ContainsKey(key);

    public long OffsetOf(long key) =>
        offsets.TryGetValue(key, out var o) ? o : throw new DataFormatException(Path, key, "key not present in the index");

    /// <summary>Parses and validates the index; every offset must lie inside a .rec of <paramref name="recLength"/> bytes.</summary>
    public static RecordIndex Load(string path, long recLength)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"RecordIO index {path} not found", path);
        var keys = new List<long>();
        var map = new Dictionary<long, long>();
        int lineNo = 0;
        foreach (var raw in ActorFace.Model.Formats.RegularFile.ReadLines(path, "RecordIO index", long.MaxValue))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var parts = line.Split('\t', ' ');
            if (parts.Length < 2
                || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var key)
                || !long.TryParse(parts[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var offset))
                throw new DataFormatException(path, null, $"line {lineNo}: expected '<key>\\t<offset>', got '{Shorten(raw)}'");
            if (offset < 0 || offset + RecordIOFormat.HeaderBytes > recLength)
                throw new DataFormatException(path, key,
                    $"line {lineNo}: offset {offset} lies past the end of the .rec file ({recLength} bytes)");
            if (!map.TryAdd(key, offset))
                throw new DataFormatException(path, key, $"line {lineNo}: duplicate key");
            keys.Add(key);
        }
        return new RecordIndex(path, keys, map);
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";
}
