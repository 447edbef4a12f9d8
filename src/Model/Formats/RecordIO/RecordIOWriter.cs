using System.Buffers.Binary;
using System.Globalization;

namespace ActorFace.Model.Formats.RecordIO;

/// <summary>
/// Writes PREFIX.rec and PREFIX.idx exactly as dmlc-core/MXNet do: a payload containing the magic word at a
/// 4-byte-aligned offset is split there into parts (cflag 1, 2, ..., 3) with those 4 bytes dropped.
/// </summary>
public sealed class RecordIOWriter : IDisposable
{
    readonly FileStream rec;
    readonly StreamWriter? idx;

    public string RecPath { get; }
    public long Position => rec.Position;

    public RecordIOWriter(string recPath, string? idxPath)
    {
        RecPath = recPath;
        rec = new FileStream(recPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        idx = idxPath is null ? null : new StreamWriter(idxPath, false) { NewLine = "\n" };
    }

    public static RecordIOWriter CreatePrefix(string prefix) => new(prefix + ".rec", prefix + ".idx");

    /// <summary>Appends one record under <paramref name="key"/>; returns the offset of its first part.</summary>
    public long Write(long key, ReadOnlySpan<byte> payload)
    {
        long offset = rec.Position;
        WriteFramed(rec, payload);
        idx?.Write(key.ToString(CultureInfo.InvariantCulture) + "\t" + offset.ToString(CultureInfo.InvariantCulture) + "\n");
        return offset;
    }

    /// <summary>The on-disk bytes of one record (for tests and tools).</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        using var ms = new MemoryStream();
        WriteFramed(ms, payload);
        return ms.ToArray();
    }

    static void WriteFramed(Stream s, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > RecordIOFormat.MaxLength)
            throw new ArgumentException($"record of {payload.Length} bytes exceeds the RecordIO limit of 2^29-1", nameof(payload));
        int lowerAlign = payload.Length >> 2 << 2;
        int done = 0;
        for (int i = 0; i < lowerAlign; i += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(payload[i..]) != RecordIOFormat.Magic) continue;
            WritePart(s, done == 0 ? 1u : 2u, payload[done..i]);
            done = i + 4;
        }
        WritePart(s, done != 0 ? 3u : 0u, payload[done..]);
    }

    static void WritePart(Stream s, uint cflag, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(head, RecordIOFormat.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], RecordIOFormat.EncodeLRec(cflag, (uint)data.Length));
        s.Write(head);
        s.Write(data);
        int pad = (int)(RecordIOFormat.Padded(data.Length) - data.Length);
        if (pad > 0) s.Write(stackalloc byte[pad]);
    }

    public void Dispose()
    {
        rec.Dispose();
        idx?.Dispose();
    }
}
