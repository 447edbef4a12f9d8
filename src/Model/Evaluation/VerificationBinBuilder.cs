using ActorFace.Model.Formats;
using ActorFace.Model.Formats.Images;
namespace ActorFace.Model.Evaluation;

/// <summary>
/// Builds a verification bin from an ImageFolder (one sub-folder per identity) in the layout of data README §2:
/// 10 folds, each first half "same" pairs then half "different" pairs, every image used at most once while unused
/// images remain, optionally identity-disjoint folds. Images are stored as their original file bytes.
/// </summary>
public static class VerificationBinBuilder
{
    public const int Folds = 10;
    static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp" };

    public sealed record Report(int ReusedImages, int Identities, int ImagesAvailable);

    /// <summary>Most pairs one .bin may hold.</summary>
    public const int MaxPairs = 1_000_000;

    /// <param name="progress">(images read, images to read), after each image file</param>
    public static (VerificationBin Bin, Report Report) Build(string root, int pairs, int seed, bool identityDisjoint, string name = "pairs",
        Action<int, int>? progress = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"--images {root}: directory not found");
        if (pairs > MaxPairs)
            throw new ArgumentException($"--pairs {pairs}: at most {MaxPairs:N0} (LFW has 6,000; every pair holds two encoded images in memory)");
        if (pairs <= 0 || pairs % (2 * Folds) != 0)
            throw new ArgumentException($"--pairs must be a positive multiple of {2 * Folds} (10 folds, half same / half different), got {pairs}");
        var identities = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal)
            .Select(d => (Dir: d, Files: Directory.GetFiles(d).Where(f => Extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray()))
            .Where(x => x.Files.Length > 0).ToArray();
        if (identities.Length < 2) throw new ArgumentException($"--images {root}: needs at least 2 identity folders with images, found {identities.Length}");
        if (identityDisjoint && identities.Length < 2 * Folds)
            throw new ArgumentException($"--identity-disjoint needs at least {2 * Folds} identities (2 per fold), found {identities.Length}");

        var rng = new Random(seed);
        var groups = identityDisjoint ? SplitGroups(Shuffle(Enumerable.Range(0, identities.Length).ToArray(), rng)) : null;
        var unused = identities.Select(x => new List<string>(x.Files)).ToArray();
        var chosen = new List<(string A, string B, bool Same)>();
        int reused = 0;
        int perFold = pairs / Folds;
        for (int f = 0; f < Folds; f++)
        {
            int[] ids = groups?[f] ?? Enumerable.Range(0, identities.Length).ToArray();
            if (!ids.Any(i => identities[i].Files.Length >= 2))
                throw new ArgumentException($"--images {root}: fold {f} has no identity with 2 images for a 'same' pair");
            for (int k = 0; k < perFold / 2; k++)
            {
                var fresh = ids.Where(i => unused[i].Count >= 2).ToArray();
                int id = fresh.Length > 0 ? fresh[rng.Next(fresh.Length)] : Pick(ids.Where(i => identities[i].Files.Length >= 2).ToArray(), rng);
                string a = Take(id), b = Take(id, exclude: a);
                chosen.Add((a, b, true));
            }
            for (int k = 0; k < perFold / 2; k++)
            {
                var fresh = ids.Where(i => unused[i].Count >= 1).ToArray();
                var pool = fresh.Length >= 2 ? fresh : ids;
                int i1 = Pick(pool, rng), i2;
                do i2 = Pick(pool, rng); while (i2 == i1);
                chosen.Add((Take(i1), Take(i2), false));
            }
        }

        var images = new List<byte[]>(2 * pairs);
        foreach (var (a, b, _) in chosen)
        {
            images.Add(ReadImage(a));
            images.Add(ReadImage(b));
            progress?.Invoke(images.Count, 2 * chosen.Count);
        }
        var bin = new VerificationBin(name, images, chosen.Select(c => c.Same).ToArray());
        return (bin, new Report(reused, identities.Length, identities.Sum(x => x.Files.Length)));

        static byte[] ReadImage(string path) =>
            RegularFile.ReadAllBytes(path, "image", ImageCodec.MaxFileBytes);

        string Take(int id, string? exclude = null)
        {
            var pool = unused[id].Where(f => f != exclude).ToList();
            if (pool.Count > 0)
            {
                var file = pool[rng.Next(pool.Count)];
                unused[id].Remove(file);
                return file;
            }
            reused++;
            var all = identities[id].Files.Where(f => f != exclude).ToArray();
            return all[rng.Next(all.Length)];
        }
    }

    static int Pick(int[] pool, Random rng) => pool[rng.Next(pool.Length)];

    static int[] Shuffle(int[] a, Random rng)
    {
        for (int i = a.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (a[i], a[j]) = (a[j], a[i]); }
        return a;
    }

    /// <summary>np.array_split into 10: the first n mod 10 groups one larger; each group sorted.</summary>
    static int[][] SplitGroups(int[] order)
    {
        var groups = new int[Folds][];
        int start = 0;
        for (int g = 0; g < Folds; g++)
        {
            int size = order.Length / Folds + (g < order.Length % Folds ? 1 : 0);
            groups[g] = order.Skip(start).Take(size).Order().ToArray();
            start += size;
        }
        return groups;
    }
}
