using System.Text.Json;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training.StepParity;

/// <summary>
/// A tensor as tools/step_parity.py records it: shape, L2 norm and the values at 24 fixed positions
/// ((k·2654435761 + 12345) mod numel; every value when there are at most 24). Noise: in a reference, how far
/// PyTorch's float32 result is from its float64 one by <see cref="RelativeError"/>.
/// </summary>
public sealed record Fingerprint(long[] Shape, double L2, double[] Values, double Noise = 0)
{
    const int Samples = 24;

    public static Fingerprint Of(Tensor t)
    {
        using var flat = t.detach().reshape(-1).to_type(ScalarType.Float64);
        var all = flat.data<double>().ToArray();
        var values = Positions(all.Length).Select(i => all[i]).ToArray();
        return new Fingerprint(t.shape, flat.norm().item<double>(), values);
    }

    static IEnumerable<long> Positions(long numel) => numel <= Samples
        ? Enumerable.Range(0, (int)numel).Select(i => (long)i)
        : Enumerable.Range(0, Samples).Select(k => (k * 2654435761L + 12345) % numel);

    public static Fingerprint FromJson(JsonElement e) => new(
        e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
        e.GetProperty("l2").GetDouble(),
        e.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()).ToArray(),
        e.TryGetProperty("noise", out var noise) ? noise.GetDouble() : 0);

    /// <summary>
    /// Largest error relative to the expected value, floored at the tensor's RMS (so that values near zero are
    /// judged on the tensor's scale), over the norm and every sampled value. Infinity on a shape mismatch.
    /// </summary>
    public double RelativeError(Fingerprint expected)
    {
        if (!Shape.SequenceEqual(expected.Shape) || Values.Length != expected.Values.Length) return double.PositiveInfinity;
        var numel = Math.Max(1, Shape.Aggregate(1L, (a, b) => a * b));
        var rms = expected.L2 / Math.Sqrt(numel);
        var floor = Math.Max(rms, 1e-12);
        var error = Math.Abs(L2 - expected.L2) / Math.Max(expected.L2, 1e-12);
        for (var i = 0; i < Values.Length; i++)
            error = Math.Max(error, Math.Abs(Values[i] - expected.Values[i]) / Math.Max(Math.Abs(expected.Values[i]), floor));
        return error;
    }
}
