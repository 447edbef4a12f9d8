using TorchSharp;

namespace ActorFace.Model.Data;

/// <summary>
/// FaceSamples (HWC RGB bytes) -> one <see cref="Batch"/>: CHW float32 with (x/255 - 0.5)/0.5, optional
/// per-row horizontal flip folded into the transpose, int64 labels.
/// </summary>
public static class BatchCollator
{
    const int S = FaceSample.Size;
    const int Plane = S * S;
    static readonly float[] Normalise = Enumerable.Range(0, 256).Select(v => (v / 255f - 0.5f) / 0.5f).ToArray();

    public static Batch Collate(IReadOnlyList<FaceSample> samples, ReadOnlySpan<bool> flips = default, int[]? sampleIndices = null)
    {
        int b = samples.Count;
        if (b == 0) throw new ArgumentException("cannot collate an empty batch", nameof(samples));
        if (!flips.IsEmpty && flips.Length != b) throw new ArgumentException($"{flips.Length} flip flags for {b} samples", nameof(flips));
        var pixels = new float[b * 3 * Plane];
        var labels = new long[b];
        for (int i = 0; i < b; i++)
        {
            var s = samples[i];
            if (s.Rgb.Length != FaceSample.ByteCount)
                throw new ArgumentException($"sample {i} has {s.Rgb.Length} bytes, expected {FaceSample.ByteCount} (112x112x3)");
            WriteChw(s.Rgb, pixels.AsSpan(i * 3 * Plane, 3 * Plane), !flips.IsEmpty && flips[i]);
            labels[i] = s.Label;
        }
        return new Batch(torch.tensor(pixels, [b, 3, S, S]), torch.tensor(labels, [b]), sampleIndices ?? Enumerable.Range(0, b).ToArray());
    }

    /// <summary>HWC bytes -> normalised CHW floats of one image.</summary>
    public static void WriteChw(ReadOnlySpan<byte> rgb, Span<float> chw, bool flip)
    {
        var lut = Normalise;
        for (int y = 0; y < S; y++)
        {
            int src = y * S * 3;
            for (int x = 0; x < S; x++, src += 3)
            {
                int dst = y * S + (flip ? S - 1 - x : x);
                chw[dst] = lut[rgb[src]];
                chw[Plane + dst] = lut[rgb[src + 1]];
                chw[2 * Plane + dst] = lut[rgb[src + 2]];
            }
        }
    }
}
