using System.Buffers.Binary;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// Writes the InsightFace verification pickle <c>(list of bytes, list of bool)</c> in protocol 3, the lowest
/// protocol with a native <c>bytes</c> opcode (Razorvine's Pickler would emit protocol-2 <c>bytearray</c>
/// globals instead). Python's pickle.load and Razorvine's Unpickler both read it.
/// </summary>
public static class PickleWriter
{
    const byte Proto = 0x80, EmptyList = (byte)']', Mark = (byte)'(', Appends = (byte)'e', ShortBinBytes = (byte)'C',
        BinBytes = (byte)'B', NewTrue = 0x88, NewFalse = 0x89, Tuple2 = 0x86, Stop = (byte)'.';
    const int Chunk = 1000; // Python batches APPENDS in groups of 1000

    public static void WriteVerificationBin(Stream s, IReadOnlyList<byte[]> images, IReadOnlyList<bool> issame)
    {
        if (images.Count != 2 * issame.Count)
            throw new ArgumentException($"{images.Count} images for {issame.Count} pairs; expected two per pair");
        s.WriteByte(Proto);
        s.WriteByte(3);
        WriteList(s, images.Count, i =>
        {
            var b = images[i];
            if (b.Length < 256)
            {
                s.WriteByte(ShortBinBytes);
                s.WriteByte((byte)b.Length);
            }
            else
            {
                Span<byte> len = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)b.Length);
                s.WriteByte(BinBytes);
                s.Write(len);
            }
            s.Write(b);
        });
        WriteList(s, issame.Count, i => s.WriteByte(issame[i] ? NewTrue : NewFalse));
        s.WriteByte(Tuple2);
        s.WriteByte(Stop);
    }

    static void WriteList(Stream s, int count, Action<int> item)
    {
        s.WriteByte(EmptyList);
        for (int start = 0; start < count; start += Chunk)
        {
            s.WriteByte(Mark);
            for (int i = start; i < Math.Min(count, start + Chunk); i++) item(i);
            s.WriteByte(Appends);
        }
    }
}
