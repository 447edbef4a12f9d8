namespace ActorFace.Model.Data;

/// <summary>
/// SplitMix64: a tiny, fully specified PRNG, so sample orders and synthetic images are identical on every
/// platform and .NET version (System.Random's algorithm is unspecified and has changed before).
/// </summary>
public struct DeterministicRng
{
    ulong state;

    public DeterministicRng(ulong seed) => state = seed;

    /// <summary>A generator whose stream is a function of all the given words (order matters).</summary>
    public static DeterministicRng For(params long[] words) => new(Hash(words));

    public static ulong Hash(params long[] words)
    {
        ulong h = 0x6A09E667F3BCC909UL;
        foreach (var w in words)
            h = Mix(h ^ Mix(unchecked((ulong)w) + 0x9E3779B97F4A7C15UL));
        return h;
    }

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, n) without modulo bias (Lemire's multiply-shift with rejection).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        ulong bound = (ulong)n;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * bound;
            if ((uint)m >= (uint)((0x1_0000_0000UL - bound) % bound)) return (int)(m >> 32);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public float NextFloat(float lo, float hi) => lo + (float)NextDouble() * (hi - lo);

    public bool NextBool(double p = 0.5) => NextDouble() < p;

    /// <summary>Standard normal via Box-Muller (one value per call; simplicity over speed).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates permutation of [0, n).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
