using System.Globalization;
using ActorFace.Model.Data;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Formats.RecordIO;

/// <summary><c>Force</c>: replace an existing pack (atomically). <c>Strict</c>: one undecodable image fails the pack
/// (nothing written) instead of being skipped and listed.</summary>
public sealed record PackOptions(bool Shuffle = false, long Seed = 0, int? Resize = null, int JpegQuality = 95,
    bool Force = false, bool Strict = false);

/// <summary><c>Skipped</c>: the images left out because they do not decode ("path: reason"), in folder order.</summary>
public sealed record PackSummary(string RecPath, string IdxPath, string PropertyPath, int Images, int Classes, bool InsightFaceLayout,
    IReadOnlyList<string> Skipped)
{
    public PackSummary(string recPath, string idxPath, string propertyPath, int images, int classes, bool insightFaceLayout)
        : this(recPath, idxPath, propertyPath, images, classes, insightFaceLayout, []) { }
}

/// <summary>A pack refused before anything was written: existing output without --force, bad images with --strict,
/// or nothing decodable.</summary>
public sealed class PackRefusedException(string message) : IOException(message);

/// <summary>
/// ImageFolder -> PREFIX.rec/.idx. Default: the InsightFace layout (record 0 = header [id_begin, id_end],
/// images at keys 1..N grouped by identity, then one [first, last+1] record per identity), which arcface_torch's
/// MXFaceDataset expects. <c>Shuffle</c> writes the plain shuffled layout (keys 0..N-1, no meta records; like
/// scripts/shuffle_rec.py, what DALI needs) because identity ranges cannot describe a shuffled file.
/// JPEG bytes are copied unchanged unless <c>Resize</c> is given (decode, resize, re-encode).
/// A <c>property</c> file "num_classes,112,112" is written next to the pack.
/// Every image is decoded first (a corrupt one would otherwise only surface hours into training), and the three
/// files are written to temporaries in the output folder, fsynced and renamed at the end: a failed or interrupted
/// pack leaves an earlier pack untouched, and a symlinked output path is replaced, never written through.
/// </summary>
public static class RecordIOPacker
{
    public static PackSummary Pack(string imagesDir, string prefix, PackOptions options, Action<int, int>? progress = null,
        Action<int, int>? checkProgress = null)
    {
        var folder = new ImageFolderDataset(imagesDir);
        if (options.Resize is { } size && size != FaceSample.Size)
            throw new ArgumentException($"--resize supports only {FaceSample.Size} (the fc layer expects 112x112 faces), got {size}");
        var outputs = new[] { prefix + ".rec", prefix + ".idx", MXFaceDataset.PropertyPath(prefix) };
        RefuseExisting(outputs, options.Force);

        var (good, skipped) = Check(folder, checkProgress);
        if (skipped.Count > 0 && options.Strict)
            throw new PackRefusedException($"{skipped.Count} of {folder.Count} image(s) in {imagesDir} do not decode (--strict; nothing written):\n  " +
                                           string.Join("\n  ", skipped));
        if (good.Count == 0)
            throw new PackRefusedException($"none of the {folder.Count} image(s) in {imagesDir} decodes; nothing written:\n  " + string.Join("\n  ", skipped.Take(20)));

        var dir = Path.GetDirectoryName(Path.GetFullPath(prefix))!;
        Directory.CreateDirectory(dir);
        var temps = outputs.Select(o => Path.Combine(dir, $".{Path.GetFileName(o)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp")).ToArray();
        try
        {
            Write(folder, good, temps[0], temps[1], options, progress);
            File.WriteAllText(temps[2], string.Create(CultureInfo.InvariantCulture, $"{folder.NumClasses},{FaceSample.Size},{FaceSample.Size}"));
            foreach (var t in temps) Fsync(t);
            for (int i = 0; i < outputs.Length; i++) File.Move(temps[i], outputs[i], overwrite: true);
            FsyncDirectory(dir);
        }
        finally
        {
            foreach (var t in temps) if (File.Exists(t)) File.Delete(t);
        }
        return new PackSummary(outputs[0], outputs[1], outputs[2], good.Count, folder.NumClasses, !options.Shuffle, skipped);
    }

    /// <summary>Existing output (also a dangling symlink) is refused unless forced, before any image is read.</summary>
    static void RefuseExisting(string[] outputs, bool force)
    {
        if (force) return;
        var existing = outputs.Where(o => File.Exists(o) || Directory.Exists(o) || new FileInfo(o).LinkTarget is not null).ToList();
        if (existing.Count > 0)
            throw new PackRefusedException($"{string.Join(", ", existing)} already exist(s); nothing was changed. Use --force to replace " +
                                           "(the old pack stays intact until the new one is complete), or choose another --out.");
    }

    /// <summary>Decodes every image (what training will do); returns the sample indices that decode and the rest with the reason.</summary>
    static (List<int> Good, List<string> Skipped) Check(ImageFolderDataset folder, Action<int, int>? progress)
    {
        var good = new List<int>(folder.Count);
        var skipped = new List<string>();
        var rgb = new byte[FaceSample.ByteCount];
        for (int i = 0; i < folder.Count; i++)
        {
            var path = folder.PathOf(i);
            try
            {
                // A FIFO or device among the images is refused (InvalidDataException), not skipped: it is no image at all.
                ImageCodec.DecodeRgb112(ReadImage(path), rgb, path, null);
                good.Add(i);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped.Add(e is DataFormatException ? e.Message : $"{path}: {e.Message}");
            }
            progress?.Invoke(i + 1, folder.Count);
        }
        return (good, skipped);
    }

    static void Write(ImageFolderDataset folder, List<int> good, string recPath, string idxPath, PackOptions options, Action<int, int>? progress)
    {
        int n = good.Count;
        var order = options.Shuffle ? DeterministicRng.For(options.Seed, 0x5AFF).Permutation(n).Select(i => good[i]).ToArray() : good.ToArray();
        using var writer = new RecordIOWriter(recPath, idxPath);
        int classes = folder.NumClasses;
        if (!options.Shuffle)
            writer.Write(0, ImageRecord.Pack(new IRHeader(0, 0, 0, 1), [n + 1, n + 1 + classes], default));
        long keyBase = options.Shuffle ? 0 : 1;
        // An identity whose images were all skipped keeps its class id with an empty range [n+1, n+1).
        var firstKey = Enumerable.Repeat((long)n + 1, classes).ToArray();
        var lastKey = Enumerable.Repeat((long)n, classes).ToArray();
        for (int i = 0; i < n; i++)
        {
            int src = order[i];
            int label = folder.LabelOf(src);
            long key = keyBase + i;
            if (i == 0 || folder.LabelOf(order[i - 1]) != label) firstKey[label] = key;
            lastKey[label] = key;
            var body = ImageBytes(folder.PathOf(src), options);
            writer.Write(key, ImageRecord.Pack(new IRHeader(0, label, (ulong)key, 0), [], body));
            progress?.Invoke(i + 1, n);
        }
        if (!options.Shuffle)
            for (int c = 0; c < classes; c++)
            {
                long key = n + 1 + c;
                writer.Write(key, ImageRecord.Pack(new IRHeader(0, 0, (ulong)key, 0), [firstKey[c], lastKey[c] + 1], default));
            }
    }

    static byte[] ReadImage(string path) =>
        RegularFile.ReadAllBytes(path, "image", ImageCodec.MaxFileBytes);

    static byte[] ImageBytes(string path, PackOptions options)
    {
        var bytes = ReadImage(path);
        if (options.Resize is null) return bytes;
        var rgb = ImageCodec.DecodeRgb112(bytes, path, null);
        return ImageCodec.EncodeJpeg(rgb, FaceSample.Size, FaceSample.Size, options.JpegQuality);
    }

    static void Fsync(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    static void FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Some file systems refuse to open directories; the renames are atomic anyway.
        }
    }
}
