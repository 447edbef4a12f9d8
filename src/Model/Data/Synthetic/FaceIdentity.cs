namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// The fixed look of one synthetic person, drawn from (seed, identity): face geometry around the ArcFace
/// 5-point template (eyes near (38,52)/(74,52), nose (56,72), mouth (56,92)), colours and marks.
/// Geometry differs per identity, so a model has to learn shapes and not only colours.
/// </summary>
public sealed record FaceIdentity
{
    public required float[] Skin, Hair, Iris, Lip;
    public float HeadCx, HeadCy, HeadRx, HeadRy, Jaw;
    public float EyeY, EyeDx, EyeRx, EyeRy;
    public float BrowGap, BrowThick, BrowTilt, BrowLen;
    public float NoseTipY, NoseWidth;
    public float MouthY, MouthHalfWidth, MouthThick, MouthCurve;
    public float HairlineY, HairVolume, HairPhase;
    public int HairStyle;
    public float EarSize;
    public bool Glasses;
    public float Beard;
    public required (float X, float Y, float R)[] Moles;

    static readonly float[][] HairPalette =
    [
        [25, 20, 18], [60, 40, 28], [105, 70, 40], [200, 165, 105], [150, 70, 35], [150, 150, 150], [230, 220, 200],
    ];
    static readonly float[][] IrisPalette = [[90, 55, 30], [60, 110, 170], [70, 120, 70], [120, 120, 125], [130, 100, 50]];

    public static FaceIdentity Create(long seed, int identity)
    {
        var r = DeterministicRng.For(seed, identity, 0x1D);
        float tone = (float)r.NextDouble();
        float[] skin = Lerp([250, 222, 196], [95, 60, 42], tone);
        skin = Jitter(ref r, skin, 12);
        var hair = Jitter(ref r, HairPalette[r.NextInt(HairPalette.Length)], 15);
        var iris = Jitter(ref r, IrisPalette[r.NextInt(IrisPalette.Length)], 15);
        var lip = Jitter(ref r, Lerp([200, 110, 110], [120, 60, 55], tone), 15);
        float headRx = r.NextFloat(33, 42), headRy = r.NextFloat(44, 53);
        int moleCount = r.NextInt(4);
        var moles = new (float, float, float)[moleCount];
        for (int i = 0; i < moleCount; i++)
            moles[i] = (56 + r.NextFloat(-0.7f, 0.7f) * headRx, 62 + r.NextFloat(-0.4f, 0.7f) * headRy, r.NextFloat(0.8f, 2.0f));
        return new FaceIdentity
        {
            Skin = skin, Hair = hair, Iris = iris, Lip = lip,
            HeadCx = 56 + r.NextFloat(-2, 2), HeadCy = r.NextFloat(58, 66), HeadRx = headRx, HeadRy = headRy,
            Jaw = r.NextFloat(0.0f, 0.35f),
            EyeY = r.NextFloat(47, 56), EyeDx = r.NextFloat(14, 21), EyeRx = r.NextFloat(5, 8), EyeRy = r.NextFloat(2.5f, 4.5f),
            BrowGap = r.NextFloat(5, 10), BrowThick = r.NextFloat(1.0f, 2.8f), BrowTilt = r.NextFloat(-3, 3), BrowLen = r.NextFloat(12, 18),
            NoseTipY = r.NextFloat(68, 78), NoseWidth = r.NextFloat(7, 14),
            MouthY = r.NextFloat(86, 97), MouthHalfWidth = r.NextFloat(9, 17), MouthThick = r.NextFloat(2, 5), MouthCurve = r.NextFloat(-4, 3),
            HairlineY = r.NextFloat(18, 36), HairVolume = r.NextFloat(0, 9), HairPhase = r.NextFloat(0, 6.28f), HairStyle = r.NextInt(4),
            EarSize = r.NextFloat(0.8f, 1.3f),
            Glasses = r.NextBool(0.15), Beard = r.NextBool(0.2) ? r.NextFloat(0.3f, 0.8f) : 0f,
            Moles = moles,
        };
    }

    static float[] Lerp(float[] a, float[] b, float t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

    static float[] Jitter(ref DeterministicRng r, float[] c, float amount) =>
        [Math.Clamp(c[0] + r.NextFloat(-amount, amount), 0, 255), Math.Clamp(c[1] + r.NextFloat(-amount, amount), 0, 255), Math.Clamp(c[2] + r.NextFloat(-amount, amount), 0, 255)];
}
