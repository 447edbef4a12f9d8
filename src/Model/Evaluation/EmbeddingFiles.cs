using System.Globalization;
using System.Text;

namespace ActorFace.Model.Evaluation;

/// <summary>Embedding matrices on disk: NumPy .npy (format v1.0, little-endian float32, C order) and CSV.</summary>
public static class EmbeddingFiles
{
    public static void WriteNpy(string path, IReadOnlyList<float[]> rows)
    {
        int dim = rows.Count == 0 ? 0 : rows[0].Length;
        if (rows.Any(r => r.Length != dim)) throw new ArgumentException("embedding rows differ in length");
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows.Count}, {dim}), }}";
        // magic(6) + version(2) + header length(2) + header, padded with spaces and ended by \n to a multiple of 64
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var w = new BinaryWriter(File.Create(path));
        w.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        w.Write((ushort)header.Length);
        w.Write(Encoding.ASCII.GetBytes(header));
        foreach (var r in rows) foreach (var v in r) w.Write(v); // BinaryWriter is little-endian
    }

    public static float[,] ReadNpy(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        var magic = r.ReadBytes(8);
        if (magic.Length < 8 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not an .npy file");
        int len = r.ReadUInt16();
        var header = Encoding.ASCII.GetString(r.ReadBytes(len));
        if (!header.Contains("'descr': '<f4'") || header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path}: only C-order little-endian float32 arrays are read ({header.Trim()})");
        var shape = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        var dims = shape[..shape.IndexOf(')')].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        if (dims.Length != 2) throw new InvalidDataException($"{path}: expected a 2-D array");
        var m = new float[dims[0], dims[1]];
        for (int i = 0; i < dims[0]; i++) for (int j = 0; j < dims[1]; j++) m[i, j] = r.ReadSingle();
        return m;
    }

    public static void WriteCsv(string path, IReadOnlyList<string> names, IReadOnlyList<float[]> rows)
    {
        using var w = new StreamWriter(path);
        int dim = rows.Count == 0 ? 0 : rows[0].Length;
        w.WriteLine("file," + string.Join(",", Enumerable.Range(0, dim).Select(i => $"e{i}")));
        for (int i = 0; i < rows.Count; i++)
            w.WriteLine(Quote(names[i]) + "," + string.Join(",", rows[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
