using System.Globalization;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.RecordIO;

namespace ActorFace.Model.Data;

/// <summary>
/// arcface_torch's MXFaceDataset over train.rec/train.idx (spec §4.5). If record 0 carries a label array
/// (InsightFace layout) the images are keys 1 .. label[0]-1; otherwise every key of the .idx, in file order.
/// Labels are validated against <see cref="NumClasses"/>: a label outside [0, NumClasses) is an error, never a
/// silent wrong class.
/// </summary>
public sealed class MXFaceDataset : IFaceDataset, IDisposable
{
    readonly RecordIOReader reader;
    readonly long[] keys;

    public int Count => keys.Length;
    public int NumClasses { get; }
    public string RecPath => reader.RecPath;
    /// <summary>True for the InsightFace layout (record 0 = identity-range header).</summary>
    public bool HasHeaderRecord { get; }

    /// <param name="path">A directory holding train.rec/train.idx, or a prefix P of P.rec/P.idx.</param>
    /// <param name="numClasses">cfg.num_classes; when null: the <c>property</c> file, else the header's identity
    /// range, else a scan of all record headers.</param>
    public MXFaceDataset(string path, int? numClasses = null)
    {
        var prefix = ResolvePrefix(path);
        reader = RecordIOReader.OpenPrefix(prefix);
        try
        {
            var index = reader.Index!;
            if (index.Keys.Count == 0) throw new DataFormatException(index.Path, null, "the index lists no records");
            var first = ImageRecord.Unpack(reader.ReadRecord(index.Keys[0]), reader.RecPath, index.Keys[0]);
            int? headerClasses = null;
            if (first.Header.Flag > 0)
            {
                HasHeaderRecord = true;
                long end = (long)first.Labels[0];
                if (end < 1) throw new DataFormatException(reader.RecPath, index.Keys[0], $"header record gives image range end {first.Labels[0]}");
                // Every announced key must be in the index, so the index bounds the count: check before allocating.
                if (end - 1 > index.Keys.Count)
                    throw new DataFormatException(index.Path, null, $"header record announces images 1..{end - 1} but the index lists only {index.Keys.Count} records");
                keys = new long[end - 1];
                for (long k = 1; k < end; k++)
                {
                    if (!index.Contains(k))
                        throw new DataFormatException(index.Path, k, $"header record announces images 1..{end - 1} but key {k} is not in the index");
                    keys[k - 1] = k;
                }
                if (first.Labels.Length >= 2) headerClasses = (int)(first.Labels[1] - first.Labels[0]);
            }
            else
            {
                keys = index.Keys.ToArray();
            }
            NumClasses = numClasses ?? ReadProperty(prefix) ?? headerClasses ?? ScanNumClasses();
            if (NumClasses < 1) throw new DataFormatException(reader.RecPath, null, $"number of classes {NumClasses} must be >= 1");
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public FaceSample Read(int index)
    {
        if ((uint)index >= (uint)keys.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset has {keys.Length} samples");
        long key = keys[index];
        var rec = ImageRecord.Unpack(reader.ReadRecord(key), reader.RecPath, key);
        int label = CheckLabel(rec.PrimaryLabel, key);
        return new FaceSample(ImageCodec.DecodeRgb112(rec.Body.Span, reader.RecPath, key), label);
    }

    /// <summary>The raw record (header + encoded body) of sample <paramref name="index"/>.</summary>
    public ImageRecord ReadRaw(int index) => ImageRecord.Unpack(reader.ReadRecord(keys[index]), reader.RecPath, keys[index]);

    public string Describe(int index) => $"{reader.RecPath} record {keys[index]}";

    int CheckLabel(float value, long key)
    {
        long label = (long)value; // arcface_torch: torch.tensor(label, dtype=long) truncates the float
        if (float.IsNaN(value) || label < 0 || label >= NumClasses)
            throw new DataFormatException(reader.RecPath, key, $"label {value} is outside [0, {NumClasses})");
        return (int)label;
    }

    int ScanNumClasses()
    {
        long max = -1;
        foreach (var key in keys)
            max = Math.Max(max, (long)ImageRecord.Unpack(reader.ReadRecord(key), reader.RecPath, key).PrimaryLabel);
        return (int)(max + 1);
    }

    /// <summary>Directory with train.rec → its "train" prefix; "x.rec" → "x"; anything else is a prefix.</summary>
    public static string ResolvePrefix(string path)
    {
        if (Directory.Exists(path)) return Path.Combine(path, "train");
        if (path.EndsWith(".rec", StringComparison.Ordinal) || path.EndsWith(".idx", StringComparison.Ordinal)) return path[..^4];
        return path;
    }

    /// <summary>True when <paramref name="path"/> names a RecordIO pack (dir with train.rec+train.idx, or a prefix).</summary>
    public static bool IsPack(string path)
    {
        var prefix = ResolvePrefix(path);
        return File.Exists(prefix + ".rec") && File.Exists(prefix + ".idx");
    }

    /// <summary>The InsightFace <c>property</c> file next to the pack: "num_classes,height,width".</summary>
    public static string PropertyPath(string prefix) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(prefix))!, "property");

    static int? ReadProperty(string prefix)
    {
        var path = PropertyPath(prefix);
        if (!File.Exists(path)) return null;
        var parts = ActorFace.Model.Formats.RegularFile.ReadAllText(path, "property file", 4096).Trim().Split(',');
        if (parts.Length < 1 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            throw new DataFormatException(path, null, "expected 'num_classes,112,112'");
        return n;
    }

    public void Dispose() => reader.Dispose();
}
