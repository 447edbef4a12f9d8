using System.Buffers.Binary;
using ActorFace.Model.Data;

namespace ActorFace.Model.Formats.RecordIO;

/// <summary>
/// MXNet's image-record header (struct <c>IfQQ</c>, 24 bytes, little endian). <see cref="Flag"/> = k &gt; 0 means k
/// float32 labels follow the header and <see cref="Label"/> is unused (0).
/// </summary>
public readonly record struct IRHeader(uint Flag, float Label, ulong Id, ulong Id2)
{
    public const int Size = 24;
}

/// <summary>An unpacked image record: header, its label array (empty when scalar) and the encoded image body.</summary>
public sealed record ImageRecord(IRHeader Header, float[] Labels, ReadOnlyMemory<byte> Body)
{
    /// <summary>The sample label as MXFaceDataset takes it: scalar label, else the first array entry.</summary>
    public float PrimaryLabel => Header.Flag == 0 ? Header.Label : Labels[0];

    /// <summary>mxnet.recordio.unpack: header, then flag*4 bytes of float labels, then the body.</summary>
    public static ImageRecord Unpack(byte[] payload, string file, long record)
    {
        if (payload.Length < IRHeader.Size)
            throw new DataFormatException(file, record, $"payload of {payload.Length} bytes is shorter than the 24-byte IRHeader");
        var span = payload.AsSpan();
        var header = new IRHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(span),
            BinaryPrimitives.ReadSingleLittleEndian(span[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(span[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(span[16..]));
        long labelBytes = 4L * header.Flag;
        if (IRHeader.Size + labelBytes > payload.Length)
            throw new DataFormatException(file, record,
                $"IRHeader flag {header.Flag} announces {header.Flag} float labels but the payload has only {payload.Length} bytes");
        var labels = new float[header.Flag];
        for (int i = 0; i < labels.Length; i++)
            labels[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(IRHeader.Size + 4 * i)..]);
        int bodyStart = IRHeader.Size + (int)labelBytes;
        return new ImageRecord(header, labels, payload.AsMemory(bodyStart));
    }

    /// <summary>mxnet.recordio.pack: a non-empty label array sets flag = its length and label = 0.</summary>
    public static byte[] Pack(IRHeader header, ReadOnlySpan<float> labels, ReadOnlySpan<byte> body)
    {
        var h = labels.Length > 0 ? header with { Flag = (uint)labels.Length, Label = 0f } : header with { Flag = 0 };
        var payload = new byte[IRHeader.Size + 4 * labels.Length + body.Length];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, h.Flag);
        BinaryPrimitives.WriteSingleLittleEndian(span[4..], h.Label);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], h.Id);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], h.Id2);
        for (int i = 0; i < labels.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(span[(IRHeader.Size + 4 * i)..], labels[i]);
        body.CopyTo(span[(IRHeader.Size + 4 * labels.Length)..]);
        return payload;
    }
}
