using System.Globalization;

namespace ActorFace.Model.Evaluation;

/// <summary>One face image of an IJB set: its template and media ids, 5 landmarks [5,2] and detector score.</summary>
public sealed record IjbFace(string ImageName, int TemplateId, int MediaId, double[,] Landmarks, float Score);

/// <summary>The meta files of IJB-B / IJB-C 1:1 verification (spec §6.4) under <c>&lt;root&gt;/meta</c>.</summary>
public sealed record IjbMeta(string Root, string Target, IReadOnlyList<IjbFace> Faces, int[] PairTemplate1, int[] PairTemplate2, bool[] PairGenuine)
{
    public string ImagePath(IjbFace face) => Path.Combine(Root, "loose_crop", face.ImageName);

    /// <summary>Reads meta/&lt;t&gt;_face_tid_mid.txt, &lt;t&gt;_template_pair_label.txt and &lt;t&gt;_name_5pts_score.txt (t = ijbc / ijbb).</summary>
    public static IjbMeta Load(string root, string target)
    {
        var t = target.ToUpperInvariant() switch
        {
            "IJBC" => "ijbc",
            "IJBB" => "ijbb",
            _ => throw new ArgumentException($"--target must be IJBC or IJBB, got '{target}'"),
        };
        var meta = Path.Combine(root, "meta");
        var tidMid = Rows(Path.Combine(meta, $"{t}_face_tid_mid.txt"), 3);
        var lmk = Rows(Path.Combine(meta, $"{t}_name_5pts_score.txt"), 12);
        var pairs = Rows(Path.Combine(meta, $"{t}_template_pair_label.txt"), 3);
        if (tidMid.Count != lmk.Count)
            throw new InvalidDataException($"{meta}: {t}_face_tid_mid.txt has {tidMid.Count} rows but {t}_name_5pts_score.txt has {lmk.Count}");

        var faces = new IjbFace[tidMid.Count];
        for (int i = 0; i < faces.Length; i++)
        {
            var (file, line, f) = tidMid[i];
            var (lfile, lline, l) = lmk[i];
            if (f[0] != l[0])
                throw new InvalidDataException($"{lfile}:{lline}: image '{l[0]}' does not match '{f[0]}' of {file}:{line} (files must be in the same order)");
            var landmarks = new double[5, 2];
            for (int k = 0; k < 10; k++) landmarks[k / 2, k % 2] = Number(l[1 + k], lfile, lline);
            faces[i] = new IjbFace(f[0], Int(f[1], file, line), Int(f[2], file, line), landmarks, (float)Number(l[11], lfile, lline));
        }
        var p1 = pairs.Select(p => Int(p.Fields[0], p.File, p.Line)).ToArray();
        var p2 = pairs.Select(p => Int(p.Fields[1], p.File, p.Line)).ToArray();
        var genuine = pairs.Select(p => Int(p.Fields[2], p.File, p.Line) switch
        {
            1 => true,
            0 => false,
            var v => throw new InvalidDataException($"{p.File}:{p.Line}: label {v} is neither 0 nor 1"),
        }).ToArray();
        return new IjbMeta(root, t, faces, p1, p2, genuine);
    }

    static List<(string File, int Line, string[] Fields)> Rows(string path, int columns)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IJB meta file {path} not found", path);
        var rows = new List<(string, int, string[])>();
        int n = 0;
        foreach (var raw in ActorFace.Model.Formats.RegularFile.ReadLines(path, "IJB meta file", long.MaxValue))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var fields = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != columns)
                throw new InvalidDataException($"{path}:{n}: {fields.Length} fields, expected {columns}");
            rows.Add((path, n, fields));
        }
        return rows;
    }

    static int Int(string s, string file, int line) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"{file}:{line}: '{s}' is not an integer");

    static double Number(string s, string file, int line) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"{file}:{line}: '{s}' is not a number");
}
