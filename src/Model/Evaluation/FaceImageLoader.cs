using System.Globalization;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Evaluation;

/// <summary>
/// Loads face images for `embed`: aligned 112×112 crops as they are, other sizes resized to 112×112 (bilinear, as
/// inference.py does) with a warning, or 5-point aligned when a landmarks file gives the points.
/// </summary>
public static class FaceImageLoader
{
    static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp" };

    /// <summary>Expands files and directories (recursively, sorted ordinally) into image paths.</summary>
    public static List<string> Expand(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
                files.AddRange(Directory.GetFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Contains(Path.GetExtension(f))).OrderBy(f => f, StringComparer.Ordinal));
            else if (File.Exists(input)) files.Add(input);
            else throw new FileNotFoundException($"{input}: no such file or directory", input);
        }
        if (files.Count == 0) throw new ArgumentException("no images found in " + string.Join(", ", inputs));
        return files;
    }

    /// <summary>Landmarks file: `image x1 y1 … x5 y5 [score]` per line; keyed by the path as written and by file name.</summary>
    public static Dictionary<string, double[,]> ReadLandmarks(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--landmarks {path}: file not found", path);
        var result = new Dictionary<string, double[,]>();
        int n = 0;
        var text = ActorFace.Model.Formats.RegularFile.ReadAllText(path, "--landmarks", 256L << 20);
        foreach (var line in text.Split('\n'))
        {
            n++;
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            if (f.Length is not (11 or 12)) throw new InvalidDataException($"{path}:{n}: expected 'image x1 y1 ... x5 y5 [score]', got {f.Length} fields");
            var lm = new double[5, 2];
            for (int k = 0; k < 10; k++)
                lm[k / 2, k % 2] = double.TryParse(f[1 + k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new InvalidDataException($"{path}:{n}: '{f[1 + k]}' is not a number");
            result[f[0]] = lm;
        }
        return result;
    }

    public static RgbImage Load(string file, IReadOnlyDictionary<string, double[,]>? landmarks, Action<string> warn)
    {
        var image = ImageCodec.DecodeFile(file);
        if (landmarks != null)
        {
            if (!landmarks.TryGetValue(file, out var lm) && !landmarks.TryGetValue(Path.GetFileName(file), out lm))
                throw new InvalidDataException($"{file}: no landmarks for this image in the landmarks file");
            return FaceAligner.Align(image, lm);
        }
        if (image.IsFaceSized) return image;
        warn($"warning: {file} is {image.Width}x{image.Height}, resized to 112x112 without alignment");
        return ImageOps.Resize(image, RgbImage.FaceSize, RgbImage.FaceSize);
    }
}
