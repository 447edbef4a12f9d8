using ActorFace.Model.Formats;
using ActorFace.Model.Formats.Images;
namespace ActorFace.Model.Data;

/// <summary>
/// torchvision ImageFolder: class index = position of the sub-directory name in ordinal sort order, files sorted
/// ordinally inside each class; only the usual image extensions count (other files are skipped with a warning).
/// An empty class folder is an error (torchvision refuses it too), as it would silently shift no labels but
/// leave a class without samples.
/// </summary>
public sealed class ImageFolderDataset : IFaceDataset
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"];

    readonly (string Path, int Label)[] samples;

    public string Root { get; }
    public IReadOnlyList<string> Classes { get; }
    public int Count => samples.Length;
    public int NumClasses => Classes.Count;
    public int SkippedFiles { get; }

    public ImageFolderDataset(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder {root} does not exist");
        Root = root;
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataFormatException(root, null, "no class sub-directories found (expected ROOT/<class>/<image>)");
        var list = new List<(string, int)>();
        int skipped = 0;
        for (int c = 0; c < classes.Length; c++)
        {
            var dir = Path.Combine(root, classes[c]);
            var files = Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToArray();
            int before = list.Count;
            foreach (var f in files)
            {
                if (IsImage(f)) list.Add((f, c));
                else skipped++;
            }
            if (list.Count == before)
                throw new DataFormatException(dir, null, $"class folder '{classes[c]}' (class {c}) holds no image files ({string.Join(' ', Extensions)})");
        }
        if (skipped > 0) DataLog.Warn($"{root}: skipped {skipped} non-image files");
        samples = list.ToArray();
        Classes = classes;
        SkippedFiles = skipped;
    }

    public static bool IsImage(string file) =>
        Extensions.Contains(Path.GetExtension(file).ToLowerInvariant());

    public string PathOf(int index) => samples[index].Path;
    public int LabelOf(int index) => samples[index].Label;

    public FaceSample Read(int index)
    {
        if ((uint)index >= (uint)samples.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"dataset has {samples.Length} samples");
        var (path, label) = samples[index];
        byte[] bytes;
        try { bytes = RegularFile.ReadAllBytes(path, "image", ImageCodec.MaxFileBytes); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        { throw new DataFormatException(path, index, "cannot read image file: " + e.Message, e); }
        return new FaceSample(ImageCodec.DecodeRgb112(bytes, path, index), label);
    }

    public string Describe(int index) => samples[index].Path;
}
