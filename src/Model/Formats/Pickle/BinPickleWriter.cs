namespace ActorFace.Model.Formats.Pickle;

/// <summary>Minimal pickle protocol 3 writer for (list of bytes, list of bool), as pickle.dump would produce.</summary>
internal static class BinPickleWriter
{
    const int Batch = 1000; // Python's APPENDS batch size

    public static void Write(string path, IReadOnlyList<byte[]> images, IReadOnlyList<bool> isSame)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var w = new BinaryWriter(file);
        w.Write(new byte[] { 0x80, 3 });
        w.Write((byte)']');
        for (int start = 0; start < images.Count; start += Batch)
        {
            w.Write((byte)'(');
            for (int i = start; i < Math.Min(images.Count, start + Batch); i++)
            {
                var b = images[i];
                if (b.Length < 256) { w.Write((byte)'C'); w.Write((byte)b.Length); }
                else { w.Write((byte)'B'); w.Write(b.Length); } // BinaryWriter writes little-endian int32
                w.Write(b);
            }
            w.Write((byte)'e');
        }
        w.Write((byte)']');
        for (int start = 0; start < isSame.Count; start += Batch)
        {
            w.Write((byte)'(');
            for (int i = start; i < Math.Min(isSame.Count, start + Batch); i++) w.Write((byte)(isSame[i] ? 0x88 : 0x89));
            w.Write((byte)'e');
        }
        w.Write((byte)0x86);
        w.Write((byte)'.');
    }
}
