namespace ActorFace.Model.Data;

/// <summary>
/// arcface_torch's training augmentation: a horizontal flip with probability 0.5 and nothing else (spec §4.6).
/// The decision is a hash of (seed, epoch, sample index) so a resumed run flips exactly as the original.
/// </summary>
public static class TrainAugment
{
    public static bool Flip(long seed, int epoch, int index) => (DeterministicRng.Hash(seed, epoch, index, 0xF11F) & 1) == 1;

    public static void FlipHorizontalInPlace(Span<byte> rgb, int width = FaceSample.Size, int height = FaceSample.Size)
    {
        for (int y = 0; y < height; y++)
        {
            var row = rgb.Slice(y * width * 3, width * 3);
            for (int l = 0, r = width - 1; l < r; l++, r--)
                for (int c = 0; c < 3; c++)
                    (row[l * 3 + c], row[r * 3 + c]) = (row[r * 3 + c], row[l * 3 + c]);
        }
    }
}
