using System.Globalization;

namespace ActorFace.Model.Data.RecordIO;

public sealed record PackOptions(bool Shuffle = false, long Seed = 0, int? Resize = null, int JpegQuality = 95);

public sealed record PackSummary(string RecPath, string IdxPath, string PropertyPath, int Images, int Classes, bool InsightFaceLayout);

/// <summary>
/// ImageFolder -> PREFIX.rec/.idx. Default: the InsightFace layout (record 0 = header [id_begin, id_end],
/// images at keys 1..N grouped by identity, then one [first, last+1] record per identity), which arcface_torch's
/// MXFaceDataset expects. <c>Shuffle</c> writes the plain shuffled layout (keys 0..N-1, no meta records; like
/// scripts/shuffle_rec.py, what DALI needs) because identity ranges cannot describe a shuffled file.
/// JPEG bytes are copied unchanged unless <c>Resize</c> is given (decode, resize, re-encode).
/// A <c>property</c> file "num_classes,112,112" is written next to the pack.
/// </summary>
public static class RecordIOPacker
{
    public static PackSummary Pack(string imagesDir, string prefix, PackOptions options, Action<int, int>? progress = null)
    {
        var folder = new ImageFolderDataset(imagesDir);
        if (options.Resize is { } size && size != FaceSample.Size)
            throw new ArgumentException($"--resize supports only {FaceSample.Size} (the fc layer expects 112x112 faces), got {size}");
        var dir = Path.GetDirectoryName(Path.GetFullPath(prefix))!;
        Directory.CreateDirectory(dir);
        int n = folder.Count;
        var order = options.Shuffle ? DeterministicRng.For(options.Seed, 0x5AFF).Permutation(n) : Enumerable.Range(0, n).ToArray();
        using (var writer = RecordIOWriter.CreatePrefix(prefix))
        {
            int classes = folder.NumClasses;
            if (!options.Shuffle)
                writer.Write(0, ImageRecord.Pack(new IRHeader(0, 0, 0, 1), [n + 1, n + 1 + classes], default));
            long keyBase = options.Shuffle ? 0 : 1;
            var firstKey = new long[classes];
            var lastKey = new long[classes];
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
        var property = MXFaceDataset.PropertyPath(prefix);
        File.WriteAllText(property, string.Create(CultureInfo.InvariantCulture, $"{folder.NumClasses},{FaceSample.Size},{FaceSample.Size}"));
        return new PackSummary(prefix + ".rec", prefix + ".idx", property, n, folder.NumClasses, !options.Shuffle);
    }

    static byte[] ImageBytes(string path, PackOptions options)
    {
        var bytes = ActorFace.Model.Security.RegularFile.ReadAllBytes(path, "image", ActorFace.Model.Evaluation.FaceImageCodec.MaxFileBytes);
        if (options.Resize is null) return bytes;
        var rgb = ImageCodec.DecodeRgb112(bytes, path, null);
        return ImageCodec.EncodeJpeg(rgb, FaceSample.Size, FaceSample.Size, options.JpegQuality);
    }
}
