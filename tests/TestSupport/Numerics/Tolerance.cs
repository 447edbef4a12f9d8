namespace ActorFace.Tests;

/// <summary>
/// Compares doubles within a tolerance, for <c>Assert.Equal(expected, actual, comparer)</c> over sequences:
/// <see cref="Absolute"/> for values of a known scale (cosines), <see cref="Relative"/> for values of any size
/// (weights, losses), which is absolute below 1 so that values near zero are not held to a vanishing bound.
/// </summary>
public sealed class Tolerance : IEqualityComparer<double>
{
    readonly double absolute, relative;

    Tolerance(double absolute, double relative) => (this.absolute, this.relative) = (absolute, relative);

    /// <summary>|x − y| ≤ eps.</summary>
    public static Tolerance Absolute(double eps) => new(eps, 0);

    /// <summary>|x − y| ≤ eps · max(1, |x|).</summary>
    public static Tolerance Relative(double eps) => new(eps, eps);

    public bool Equals(double x, double y) => Math.Abs(x - y) <= Math.Max(absolute, relative * Math.Abs(x));

    public int GetHashCode(double obj) => 0; // no hash is consistent with "close enough"
}
