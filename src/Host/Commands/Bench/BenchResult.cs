using System.Text.Json;

namespace ActorFace.Host.Commands.Bench;

/// <summary>One benchmark row: printed as aligned text, or as one JSON object per line with --json.</summary>
public sealed record BenchResult(string Name, IReadOnlyDictionary<string, object> Fields)
{
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>(Fields) { ["bench"] = Name });

    public override string ToString() =>
        $"{Name}: " + string.Join("  ", Fields.Select(kv => $"{kv.Key}={Format(kv.Value)}"));

    static string Format(object v) => v switch
    {
        double d => d.ToString(Math.Abs(d) >= 100 ? "F1" : "G4", System.Globalization.CultureInfo.InvariantCulture),
        float f => Format((double)f),
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
