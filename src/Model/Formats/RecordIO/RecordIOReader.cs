using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using ActorFace.Model.Data;

namespace ActorFace.Model.Formats.RecordIO;

/// <summary>
/// Reads MXNet RecordIO records by positional reads (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>):
/// no shared file position, so any number of threads may read at once, and nothing is loaded whole.
/// Multi-part records are joined with the magic word re-inserted between parts (spec §4.2).
/// </summary>
public sealed class RecordIOReader : IDisposable
{
    readonly SafeFileHandle handle;

    public string RecPath { get; }
    public long Length { get; }
    /// <summary>The parsed .idx, or null when the reader was opened without one (sequential scans only).</summary>
    public RecordIndex? Index { get; }

    public RecordIOReader(string recPath, string? idxPath)
    {
        if (!File.Exists(recPath)) throw new FileNotFoundException($"RecordIO file {recPath} not found", recPath);
        RecPath = recPath;
        // A FIFO would block the open forever, a device would be read as an endless record stream.
        ActorFace.Model.Formats.RegularFile.Require(recPath, "RecordIO file", long.MaxValue);
        handle = File.OpenHandle(recPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(handle);
        try
        {
            Index = idxPath is null ? null : RecordIndex.Load(idxPath, Length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens PREFIX.rec + PREFIX.idx.</summary>
    public static RecordIOReader OpenPrefix(string prefix) => new(prefix + ".rec", prefix + ".idx");

    /// <summary>Payload of the record with this key (through the index).</summary>
    public byte[] ReadRecord(long key)
    {
        var index = Index ?? throw new InvalidOperationException($"{RecPath} was opened without an index");
        return ReadAt(index.OffsetOf(key), key, out _);
    }

    /// <summary>
    /// Payload of the record whose first part starts at <paramref name="offset"/>; <paramref name="next"/> is the
    /// offset just after its last part. <paramref name="recordForErrors"/> only labels exceptions.
    /// </summary>
    public byte[] ReadAt(long offset, long recordForErrors, out long next)
    {
        Span<byte> head = stackalloc byte[RecordIOFormat.HeaderBytes];
        byte[]? result = null;
        int filled = 0;
        long pos = offset;
        for (int part = 0; ; part++)
        {
            if (pos + RecordIOFormat.HeaderBytes > Length)
                throw new DataFormatException(RecPath, recordForErrors,
                    $"truncated: part {part} header at offset {pos} runs past the end of the file ({Length} bytes)");
            ReadExactly(head, pos, recordForErrors);
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(head);
            if (magic != RecordIOFormat.Magic)
                throw new DataFormatException(RecPath, recordForErrors,
                    $"wrong magic 0x{magic:X8} at offset {pos} (expected 0x{RecordIOFormat.Magic:X8}); not a RecordIO record boundary");
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            uint cflag = RecordIOFormat.CFlag(lrec);
            int len = (int)RecordIOFormat.Length(lrec);
            bool first = part == 0;
            if (cflag > 3 || (first && cflag is 2 or 3) || (!first && cflag is 0 or 1))
                throw new DataFormatException(RecPath, recordForErrors,
                    $"continuation flag {cflag} is out of sequence for part {part} at offset {pos}");
            long dataStart = pos + RecordIOFormat.HeaderBytes;
            if (dataStart + len > Length)
                throw new DataFormatException(RecPath, recordForErrors,
                    $"truncated: part {part} at offset {pos} announces {len} bytes but the file ends after {Length - dataStart}");
            bool more = cflag is 1 or 2;
            int needed = filled + len + (more ? 4 : 0);
            if (result is null) result = new byte[needed];
            else if (result.Length < needed) Array.Resize(ref result, Math.Max(needed, result.Length * 2));
            ReadExactly(result.AsSpan(filled, len), dataStart, recordForErrors);
            filled += len;
            pos = dataStart + RecordIOFormat.Padded(len);
            if (!more)
            {
                next = pos;
                return result.Length == filled ? result : result[..filled];
            }
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(filled), RecordIOFormat.Magic);
            filled += 4;
        }
    }

    /// <summary>Every record in file order by walking the framing (no index needed): (offset, payload).</summary>
    public IEnumerable<(long Offset, byte[] Payload)> Scan()
    {
        long pos = 0;
        for (long n = 0; pos < Length; n++)
        {
            long start = pos;
            var payload = ReadAt(pos, n, out pos);
            yield return (start, payload);
        }
    }

    void ReadExactly(Span<byte> buffer, long offset, long record)
    {
        while (buffer.Length > 0)
        {
            int got = RandomAccess.Read(handle, buffer, offset);
            if (got <= 0)
                throw new DataFormatException(RecPath, record, $"unexpected end of file at offset {offset}");
            buffer = buffer[got..];
            offset += got;
        }
    }

    public void Dispose() => handle.Dispose();
}
