using System.Diagnostics;
using ActorFace.Model.Formats.Images;

namespace ActorFace.Model.Evaluation;

/// <summary>A bin decoded once (uint8 faces and their mirrors), ready to be evaluated many times.</summary>
public sealed class DecodedVerificationSet
{
    public string Name { get; }
    public IReadOnlyList<bool> IsSame { get; }
    /// <summary>Originals first (2P faces), then their horizontal mirrors (2P faces).</summary>
    public RgbImage[] FacesAndMirrors { get; }
    public int ImageCount => FacesAndMirrors.Length / 2;

    public DecodedVerificationSet(VerificationBin bin)
    {
        Name = bin.Name;
        IsSame = bin.IsSame;
        var faces = bin.DecodeImages();
        var mirrors = new RgbImage[faces.Length];
        Parallelism.For(faces.Length, i => mirrors[i] = faces[i].FlipHorizontal());
        FacesAndMirrors = faces.Concat(mirrors).ToArray();
    }

    public static DecodedVerificationSet Load(string path)
    {
        var bin = VerificationBin.Load(path);
        if (bin.PairCount < VerificationProtocol.DefaultFolds)
            throw new InvalidDataException($"{path}: {bin.PairCount} pair(s); the {VerificationProtocol.DefaultFolds}-fold verification protocol needs at least {VerificationProtocol.DefaultFolds}");
        return new(bin);
    }
}

/// <summary>Embeds a decoded set with one embedder and applies <see cref="VerificationProtocol"/>.</summary>
public static class VerificationRunner
{
    public sealed record Timed(VerificationResult Result, TimeSpan EmbeddingTime, int ImagesEmbedded)
    {
        public double ImagesPerSecond => ImagesEmbedded / Math.Max(EmbeddingTime.TotalSeconds, 1e-9);
    }

    /// <param name="requireFinite">refuse NaN/Inf embeddings (the eval command) instead of scoring them (training's
    /// callback logs what a diverging run gives; its loss guard decides what to do)</param>
    /// <param name="progress">called with the number of faces embedded after each batch</param>
    public static Timed Run(DecodedVerificationSet set, IFaceEmbedder embedder, int folds = 10, bool requireFinite = false,
        Action<int>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var raw = embedder.Embed(set.FacesAndMirrors, progress);
        clock.Stop();
        if (requireFinite)
            EmbeddingCheck.RequireFinite(raw, i => $"{set.Name} image {i % set.ImageCount}{(i >= set.ImageCount ? " (mirrored)" : "")}", embedder.Description);
        int n = set.ImageCount;
        var emb0 = new double[n][];
        var emb1 = new double[n][];
        for (int i = 0; i < n; i++)
        {
            emb0[i] = Array.ConvertAll(raw[i], v => (double)v);
            emb1[i] = Array.ConvertAll(raw[n + i], v => (double)v);
        }
        var result = VerificationProtocol.Evaluate(set.Name, emb0, emb1, set.IsSame, folds);
        return new Timed(result, clock.Elapsed, raw.Length);
    }
}
