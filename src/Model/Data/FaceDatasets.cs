using System.Globalization;
using ActorFace.Model.Data.Synthetic;

namespace ActorFace.Model.Data;

/// <summary>
/// Opens a training source the way arcface_torch's get_dataloader chooses it (spec §4.1), plus the learnable
/// synthetic faces:
/// <list type="bullet">
/// <item><c>synthetic</c>: arcface_torch's one-random-image set (speed tests only);</item>
/// <item><c>synthetic-ids:KxS[:SEED]</c>: <see cref="SyntheticIdentityDataset"/> with K people, S samples each;</item>
/// <item>a directory with train.rec + train.idx, or a prefix P with P.rec + P.idx: <see cref="MXFaceDataset"/>;</item>
/// <item>any other directory: <see cref="ImageFolderDataset"/>.</item>
/// </list>
/// </summary>
public static class FaceDatasets
{
    public const string SyntheticIdsPrefix = "synthetic-ids:";

    public static IFaceDataset Open(string source, int? numClasses = null)
    {
        if (source == "synthetic") return new ConstantSyntheticDataset(numClasses ?? 2);
        if (source.StartsWith(SyntheticIdsPrefix, StringComparison.Ordinal)) return ParseSyntheticIds(source);
        if (MXFaceDataset.IsPack(source)) return new MXFaceDataset(source, numClasses);
        if (Directory.Exists(source))
        {
            var folder = new ImageFolderDataset(source);
            if (numClasses is { } n && n != folder.NumClasses)
                throw new DataFormatException(source, null, $"num_classes is {n} but the folder has {folder.NumClasses} class directories");
            return folder;
        }
        throw new FileNotFoundException(
            $"data source '{source}' is neither 'synthetic', '{SyntheticIdsPrefix}KxS[:SEED]', a RecordIO pack (train.rec/.idx or PREFIX.rec/.idx) nor an image folder");
    }

    static SyntheticIdentityDataset ParseSyntheticIds(string source)
    {
        var spec = source[SyntheticIdsPrefix.Length..].Split(':');
        var ks = spec[0].Split('x');
        if (ks.Length != 2 || !int.TryParse(ks[0], CultureInfo.InvariantCulture, out var k) || !int.TryParse(ks[1], CultureInfo.InvariantCulture, out var s)
            || spec.Length > 2)
            throw new ArgumentException($"bad synthetic source '{source}'; expected {SyntheticIdsPrefix}<identities>x<samples>[:seed], e.g. {SyntheticIdsPrefix}200x40:1");
        long seed = 0;
        if (spec.Length == 2 && !long.TryParse(spec[1], CultureInfo.InvariantCulture, out seed))
            throw new ArgumentException($"bad seed in synthetic source '{source}'");
        return new SyntheticIdentityDataset(k, s, seed);
    }
}
