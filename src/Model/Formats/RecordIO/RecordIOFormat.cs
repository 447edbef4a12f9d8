namespace ActorFace.Model.Formats.RecordIO;

/// <summary>dmlc-core RecordIO framing as MXNet writes it (spec §4.2).</summary>
public static class RecordIOFormat
{
    public const uint Magic = 0xCED7230A;
    public const int HeaderBytes = 8;
    public const int MaxLength = (1 << 29) - 1;

    public static uint EncodeLRec(uint cflag, uint length) => (cflag << 29) | length;
    public static uint CFlag(uint lrec) => lrec >> 29;
    public static uint Length(uint lrec) => lrec & ((1u << 29) - 1);
    public static long Padded(long length) => (length + 3) >> 2 << 2;
}
