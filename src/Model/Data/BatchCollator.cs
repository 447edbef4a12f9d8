using TorchSharp;
using ActorFace.Model.Runtime;

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

    public static unsafe Batch Collate(IReadOnlyList<FaceSample> samples, ReadOnlySpan<bool> flips = default, int[]? sampleIndices = null)
    {
        int b = samples.Count;
        if (b == 0) throw new ArgumentException("cannot collate an empty batch", nameof(samples));
        if (!flips.IsEmpty && flips.Length != b) throw new ArgumentException($"{flips.Length} flip flags for {b} samples", nameof(flips));
        for (int i = 0; i < b; i++)
            if (samples[i].Rgb.Length != FaceSample.ByteCount)
                throw new ArgumentException($"sample {i} has {samples[i].Rgb.Length} bytes, expected {FaceSample.ByteCount} (112x112x3)");
        var labels = new long[b];
        // Written in place into the tensor's own (native, reused by malloc) memory: a managed float[] of a batch is a
        // 9.6 MB large-object-heap array at batch 64, whose pages the GC hands back and the next batch faults in again.
        var images = torch.empty([b, 3, S, S], torch.float32);
        var pixels = new Span<float>((void*)TensorMemory.DataPointer(images), b * 3 * Plane);
        for (int i = 0; i < b; i++)
        {
            WriteChw(samples[i].Rgb, pixels.Slice(i * 3 * Plane, 3 * Plane), !flips.IsEmpty && flips[i]);
            labels[i] = samples[i].Label;
        }
        return new Batch(images, torch.tensor(labels, [b]), sampleIndices ?? Enumerable.Range(0, b).ToArray());
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
