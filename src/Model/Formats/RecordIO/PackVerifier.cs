using ActorFace.Model.Data;
namespace ActorFace.Model.Formats.RecordIO;

public sealed record PackReport(int Records, int Images, int NumClasses, bool InsightFaceLayout, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks a pack end to end: the framing of the whole .rec (sequential walk), that every .idx offset is a record
/// start of the walk, the header/identity records, every image decodes to 112x112 and every label lies in
/// [0, num_classes). Problems are collected (up to a limit) rather than stopping at the first.
/// </summary>
public static class PackVerifier
{
    const int MaxProblems = 50;

    public static PackReport Verify(string path, Action<int, int>? progress = null)
    {
        var prefix = MXFaceDataset.ResolvePrefix(path);
        var problems = new List<string>();
        int records = 0;
        using (var reader = RecordIOReader.OpenPrefix(prefix))
        {
            var starts = new HashSet<long>();
            foreach (var (offset, _) in reader.Scan())
            {
                starts.Add(offset);
                records++;
            }
            foreach (var key in reader.Index!.Keys)
                if (!starts.Contains(reader.Index.OffsetOf(key)) && Add(problems, $"{reader.Index.Path}: key {key} points at offset {reader.Index.OffsetOf(key)}, which is not a record start"))
                    break;
            if (reader.Index.Keys.Count != records)
                Add(problems, $"{reader.Index.Path} lists {reader.Index.Keys.Count} records but {reader.RecPath} holds {records}");
        }
        using var ds = new MXFaceDataset(prefix);
        if (ds.HasHeaderRecord) CheckIdentityRecords(ds, prefix, problems);
        for (int i = 0; i < ds.Count; i++)
        {
            try { ds.Read(i); }
            catch (DataFormatException e)
            {
                if (!Add(problems, e.Message)) break;
            }
            progress?.Invoke(i + 1, ds.Count);
        }
        return new PackReport(records, ds.Count, ds.NumClasses, ds.HasHeaderRecord, problems);
    }

    /// <summary>Every identity record must cover a key range whose images carry that identity's label.</summary>
    static void CheckIdentityRecords(MXFaceDataset ds, string prefix, List<string> problems)
    {
        using var reader = RecordIOReader.OpenPrefix(prefix);
        var header = ImageRecord.Unpack(reader.ReadRecord(0), reader.RecPath, 0);
        if (header.Labels.Length < 2) return;
        long begin = (long)header.Labels[0], end = (long)header.Labels[1];
        for (long key = begin; key < end; key++)
        {
            var rec = ImageRecord.Unpack(reader.ReadRecord(key), reader.RecPath, key);
            if (rec.Labels.Length < 2) { Add(problems, $"{reader.RecPath}: record {key}: identity record without a [first, last+1] range"); continue; }
            long first = (long)rec.Labels[0], last = (long)rec.Labels[1];
            int label = (int)(key - begin);
            if (first >= last) continue; // an identity all of whose images were skipped when packing
            foreach (var k in new[] { first, last - 1 })
            {
                var img = ImageRecord.Unpack(reader.ReadRecord(k), reader.RecPath, k);
                if ((int)img.PrimaryLabel != label && !Add(problems, $"{reader.RecPath}: record {key}: identity {label} range [{first}, {last}) holds key {k} with label {img.PrimaryLabel}"))
                    return;
            }
        }
    }

    static bool Add(List<string> problems, string message)
    {
        if (problems.Count < MaxProblems) problems.Add(message);
        return problems.Count < MaxProblems;
    }
}
