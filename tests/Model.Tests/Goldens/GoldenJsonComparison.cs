using System.Text.Json;

namespace ActorFace.Model.Tests.Goldens;

/// <summary>
/// Compares a regenerated golden JSON file with the one the suite reads: same keys, strings and integers; floats
/// within <c>relative</c> of their scale. The scale of a number in an array is the largest magnitude in that array
/// (outputs of a deep net at init reach 1e7 beside values near 0), and a "sum" is measured against its sibling
/// "abs_sum" (a sum of ± terms cancels). Paths listed in <c>absolute</c> hold float noise around a true 0 and get
/// an absolute tolerance instead (the goldens' notes say which).
/// </summary>
internal sealed class GoldenJsonComparison(double relative, IReadOnlyDictionary<string, double> absolute)
{
    public List<string> Problems { get; } = [];
    public int Numbers { get; private set; }
    public int DifferentNumbers { get; private set; }
    public double WorstError { get; private set; }
    public string WorstPath { get; private set; } = "";

    public void Compare(JsonElement expected, JsonElement actual, string path = "")
    {
        if (expected.ValueKind != actual.ValueKind && !(IsNumber(expected) && IsNumber(actual)))
        {
            Problems.Add($"{path}: {expected.ValueKind} expected, {actual.ValueKind} written");
            return;
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).ToList();
                var written = actual.EnumerateObject().Select(p => p.Name).ToList();
                foreach (var missing in names.Except(written)) Problems.Add($"{Join(path, missing)}: not written");
                foreach (var extra in written.Except(names)) Problems.Add($"{Join(path, extra)}: written but not in the golden");
                foreach (var name in names.Intersect(written))
                {
                    var child = Join(path, name);
                    if (name == "sum" && expected.TryGetProperty("abs_sum", out var absSum))
                        CompareNumbers(child, [expected.GetProperty(name)], [actual.GetProperty(name)], absSum.GetDouble());
                    else
                        Compare(expected.GetProperty(name), actual.GetProperty(name), child);
                }
                break;
            case JsonValueKind.Array when IsNumericArray(expected):
                var e = Flatten(expected);
                var a = Flatten(actual);
                if (!Shape(expected).SequenceEqual(Shape(actual)) || e.Count != a.Count)
                    Problems.Add($"{path}: shape [{string.Join(",", Shape(actual))}] written, [{string.Join(",", Shape(expected))}] expected");
                else
                    CompareNumbers(path, e, a, e.Count == 0 ? 0 : e.Max(v => Math.Abs(v.GetDouble())));
                break;
            case JsonValueKind.Array:
                var (ea, aa) = (expected.EnumerateArray().ToList(), actual.EnumerateArray().ToList());
                if (ea.Count != aa.Count) Problems.Add($"{path}: {aa.Count} items written, {ea.Count} expected");
                else for (var i = 0; i < ea.Count; i++) Compare(ea[i], aa[i], $"{path}[{i}]");
                break;
            case JsonValueKind.Number:
                CompareNumbers(path, [expected], [actual], Math.Abs(expected.GetDouble()));
                break;
            default:
                if (expected.GetRawText() != actual.GetRawText())
                    Problems.Add($"{path}: {Short(actual.GetRawText())} written, {Short(expected.GetRawText())} expected");
                break;
        }
    }

    void CompareNumbers(string path, IReadOnlyList<JsonElement> expected, IReadOnlyList<JsonElement> actual, double scale)
    {
        var absoluteTolerance = absolute.Where(kv => path.StartsWith(kv.Key, StringComparison.Ordinal)).Select(kv => kv.Value).DefaultIfEmpty(0).Max();
        for (var i = 0; i < expected.Count; i++)
        {
            Numbers++;
            var where = expected.Count == 1 ? path : $"{path}[{i}]";
            if (IsInteger(expected[i]))
            {
                if (expected[i].GetRawText() != actual[i].GetRawText())
                    Problems.Add($"{where}: {actual[i].GetRawText()} written, integer {expected[i].GetRawText()} expected");
                continue;
            }
            double e = expected[i].GetDouble(), a = actual[i].GetDouble();
            if (e == a) continue;
            DifferentNumbers++;
            var diff = Math.Abs(a - e);
            if (absoluteTolerance > 0 ? diff <= absoluteTolerance : diff <= relative * scale) continue;
            var error = diff / Math.Max(scale, double.Epsilon);
            Problems.Add($"{where}: {a:R} written, {e:R} expected (|diff| {diff:G3}, {error:G3} of scale {scale:G3})");
        }
        if (absoluteTolerance > 0) return; // noise: not a measure of how close the numbers are
        for (var i = 0; i < expected.Count; i++)
        {
            var error = Math.Abs(actual[i].GetDouble() - expected[i].GetDouble()) / Math.Max(scale, double.Epsilon);
            if (error > WorstError) (WorstError, WorstPath) = (error, path);
        }
    }

    static bool IsNumber(JsonElement e) => e.ValueKind == JsonValueKind.Number;

    static bool IsInteger(JsonElement e) => e.GetRawText().All(c => char.IsDigit(c) || c == '-');

    static bool IsNumericArray(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => IsNumber(x) || IsNumericArray(x));

    static List<JsonElement> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten).ToList() : [e];

    static IEnumerable<int> Shape(JsonElement e)
    {
        for (; e.ValueKind == JsonValueKind.Array; e = e.GetArrayLength() > 0 ? e[0] : default)
            yield return e.GetArrayLength();
    }

    static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    static string Short(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
