using System.Collections;
using System.Text;
using Razorvine.Pickle;
using ActorFace.Model.Formats.Images;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Model.Evaluation;

/// <summary>
/// An InsightFace verification `.bin` (spec §6.1): pickle of (bins, issame_list); images 2i and 2i+1 form pair i.
/// Images stay encoded here; <see cref="DecodeImages"/> turns them into RGB faces.
/// </summary>
public sealed class VerificationBin
{
    public string Name { get; }
    public IReadOnlyList<byte[]> Images { get; }
    public IReadOnlyList<bool> IsSame { get; }
    public int PairCount => IsSame.Count;

    public VerificationBin(string name, IReadOnlyList<byte[]> images, IReadOnlyList<bool> isSame)
    {
        if (images.Count != 2 * isSame.Count)
            throw new InvalidDataException($"{name}: {images.Count} images for {isSame.Count} pairs (expected {2 * isSame.Count})");
        Name = name; Images = images; IsSame = isSame;
    }

    static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(NumpyPickleObjects.Globals)
    {
        // how Python 3 pickles bytes / bytearray at protocol <= 2
        "_codecs.encode", "__builtin__.bytes", "__builtin__.bytearray", "builtins.bytearray",
    };

    /// <summary>Loads a bin; the dataset name is the file name without extension (e.g. "lfw").</summary>
    public static VerificationBin Load(string path)
    {
        // Regular files only (a FIFO would block forever, /dev/zero fill the memory); one array at most.
        var data = ActorFace.Model.Formats.RegularFile.ReadAllBytes(path, "verification bin", ActorFace.Model.Formats.RegularFile.MaxArrayBytes);
        PickleGuard.Check(data, AllowedGlobals, path);
        NumpyPickleObjects.Register();
        object root;
        try
        {
            using var unpickler = new Unpickler();
            root = unpickler.loads(data);
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or InvalidOperationException or InvalidDataException
                                      or ArgumentException or FormatException or System.Reflection.TargetInvocationException
                                      or IndexOutOfRangeException or NullReferenceException) // Razorvine on a malformed stack (fuzzing)
        {
            throw new InvalidDataException($"{path}: malformed verification pickle ({Innermost(e).Message})", e);
        }
        if (root is not object[] { Length: 2 } tuple)
            throw new InvalidDataException($"{path}: expected a pickled 2-tuple (bins, issame_list), got {Describe(root)}");
        var images = ToImages(tuple[0], path);
        var issame = ToBools(tuple[1], path);
        if (issame.Count == 0 && images.Count == 0)
            throw new InvalidDataException($"{path}: holds no pairs (empty image list and issame_list): nothing to verify");
        return new VerificationBin(Path.GetFileNameWithoutExtension(path), images, issame);
    }

    /// <summary>Writes pickle protocol 3 of (list of bytes, list of bool), readable by Python's pickle.load.</summary>
    public void Save(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        PickleWriter.WriteVerificationBin(file, Images, IsSame);
    }

    /// <summary>Decodes every image to RGB (112×112 expected; others are resized shorter-side-to-112 as MXNet does).</summary>
    public RgbImage[] DecodeImages()
    {
        var faces = new RgbImage[Images.Count];
        Parallelism.For(faces.Length, i =>
        {
            var img = ImageCodec.Decode(Images[i], $"{Name}: image {i}");
            // Refuse before resizing: a crafted header (16x16912, say) would otherwise cost a 13-megapixel resize.
            var (w, h) = ImageOps.ResizeShortSize(img.Width, img.Height, RgbImage.FaceSize);
            if (w != RgbImage.FaceSize || h != RgbImage.FaceSize)
                throw new InvalidDataException($"{Name}: image {i} is {img.Width}x{img.Height}, {w}x{h} after MXNet's resize_short; verification needs square 112x112 faces");
            faces[i] = ImageOps.ResizeShort(img, RgbImage.FaceSize);
        });
        return faces;
    }

    static List<byte[]> ToImages(object o, string path)
    {
        if (o is not IList list) throw new InvalidDataException($"{path}: bins is {Describe(o)}, expected a list");
        var images = new List<byte[]>(list.Count);
        for (int i = 0; i < list.Count; i++)
            images.Add(list[i] switch
            {
                byte[] b => b,
                string s => Encoding.Latin1.GetBytes(s), // Python 2 str: one char per byte
                NumpyArray { DType.Kind: "u1" or "i1" } a => a.Data,
                var other => throw new InvalidDataException($"{path}: bins[{i}] is {Describe(other)}, expected bytes or a uint8 array"),
            });
        return images;
    }

    static List<bool> ToBools(object o, string path)
    {
        if (o is NumpyArray array)
            return array.DType!.Kind == "b1"
                ? array.Data.Select(b => b != 0).ToList()
                : throw new InvalidDataException($"{path}: issame_list is a numpy '{array.DType.Kind}' array, expected bool");
        if (o is not IList list) throw new InvalidDataException($"{path}: issame_list is {Describe(o)}, expected a list of bool");
        var result = new List<bool>(list.Count);
        for (int i = 0; i < list.Count; i++)
            result.Add(list[i] is bool b ? b : throw new InvalidDataException($"{path}: issame_list[{i}] is {Describe(list[i])}, expected bool"));
        return result;
    }

    static string Describe(object? o) => o switch
    {
        null => "None",
        object[] t => $"a {t.Length}-tuple",
        NumpyArray a => $"a numpy '{a.DType?.Kind}' array",
        _ => o.GetType().Name,
    };

    static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
