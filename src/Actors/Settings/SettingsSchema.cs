using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace ActorFace.Actors.Settings;

/// <summary>The type of a key, read from the form of its default in the reference file.</summary>
public enum ConfigKind { Integer, Double, Bool, String, StringList, DoubleList, Duration }

/// <summary>The bounds of a size-like key (`# range: min..max (meaning)` above it in the reference file).</summary>
public sealed record SettingRange(string Key, long Min, long Max, string Meaning)
{
    /// <summary>"must be in 1..64 (decoding threads per rank), got 100000", or null when the value is in range.</summary>
    public string? Problem(long value) => value >= Min && value <= Max ? null : $"must be in {Min}..{Max} ({Meaning}), got {value}";
}

/// <summary>
/// Every key of the `actorface` section, derived from the one place that declares it: actorface-reference.conf
/// next to this file (embedded in this assembly, as Akka ships its reference.conf). A key's type is the form of its
/// default; its allowed values and range are the `one of:` / `range:` comment lines right above it. Anything else
/// under `actorface` is rejected, so a typo never silently falls back to a default.
/// </summary>
public static partial class SettingsSchema
{
    public const string Root = "actorface";
    private const string Resource = "ActorFace.Actors.Settings.actorface-reference.conf";

    /// <summary>The reference file, as shipped.</summary>
    public static string ReferenceText { get; } = ReadResource();

    /// <summary>The reference file, parsed: the defaults of every key.</summary>
    public static Config Reference { get; } = ConfigurationFactory.ParseString(ReferenceText);

    /// <summary>Every key (relative to `actorface.`) in the order of the reference file, with its type.</summary>
    public static IReadOnlyDictionary<string, ConfigKind> Keys { get; }

    /// <summary>The keys in the order of the reference file.</summary>
    public static IReadOnlyList<string> Ordered { get; }

    /// <summary>The allowed values of enumeration keys (`# one of: a, b`).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Allowed { get; }

    /// <summary>The bounds of size-like keys (`# range: min..max (meaning)`).</summary>
    public static IReadOnlyList<SettingRange> Ranges { get; }

    static SettingsSchema()
    {
        var declared = Scan(ReferenceText);
        var keys = new Dictionary<string, ConfigKind>(StringComparer.Ordinal);
        Collect(Reference.GetValue(Root).GetObject(), "", keys);
        var order = declared.Select(d => d.Key).ToList();
        if (!order.Order(StringComparer.Ordinal).SequenceEqual(keys.Keys.Order(StringComparer.Ordinal)))
            throw new InvalidOperationException($"{Resource}: the line scan and the HOCON parse disagree on the keys");
        Keys = order.ToDictionary(k => k, k => keys[k], StringComparer.Ordinal); // enumerates in file order
        Ordered = order;
        Allowed = declared.Where(d => d.OneOf is not null).ToDictionary(d => d.Key, d => d.OneOf!, StringComparer.Ordinal);
        Ranges = declared.Where(d => d.Range is not null).Select(d => d.Range!).ToList();
    }

    public static bool IsLeaf(string relativeKey) => Keys.ContainsKey(relativeKey);

    public static bool IsSection(string relativeKey) => Keys.Keys.Any(k => k.StartsWith(relativeKey + ".", StringComparison.Ordinal));

    /// <summary>"a, b or c", as the error for a value outside <see cref="Allowed"/> lists them.</summary>
    public static string OneOf(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];

    private static void Collect(HoconObject section, string prefix, Dictionary<string, ConfigKind> keys)
    {
        foreach (var (name, value) in section.Items)
        {
            var key = prefix.Length == 0 ? name : prefix + "." + name;
            if (value.IsObject()) Collect(value.GetObject(), key, keys);
            else keys[key] = KindOf(key, value);
        }
    }

    /// <summary>The type a default's form declares: on/true → Bool, 12 → Integer, 0.5 / 5e-4 → Double, 30s → Duration,
    /// [1.0, 0.5] → DoubleList, [] / [a, b] → StringList, anything else → String.</summary>
    private static ConfigKind KindOf(string key, HoconValue value)
    {
        if (value.IsArray())
        {
            var items = value.GetArray();
            return items.Count > 0 && items.All(i => double.TryParse(i.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                ? ConfigKind.DoubleList : ConfigKind.StringList;
        }
        if (value.Values.Count == 1 && value.Values[0] is HoconArray) return ConfigKind.StringList; // `[]`
        var text = value.GetString() ?? throw new InvalidOperationException($"{Resource}: {key} has no default");
        if (text is "true" or "false" or "on" or "off" or "yes" or "no") return ConfigKind.Bool;
        if (IntegerForm().IsMatch(text)) return ConfigKind.Integer;
        if (DoubleForm().IsMatch(text)) return ConfigKind.Double;
        if (DurationForm().IsMatch(text)) return ConfigKind.Duration;
        return ConfigKind.String;
    }

    private sealed record Declared(string Key, IReadOnlyList<string>? OneOf, SettingRange? Range);

    /// <summary>The keys in file order with the annotations of the comment block right above each.</summary>
    private static List<Declared> Scan(string text)
    {
        var declared = new List<Declared>();
        var sections = new List<string>();
        IReadOnlyList<string>? oneOf = null;
        (long Min, long Max, string Meaning)? range = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            Match m;
            if ((m = OneOfLine().Match(line)).Success)
                oneOf = m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            else if ((m = RangeLine().Match(line)).Success)
                range = (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value);
            else if ((m = SectionLine().Match(line)).Success)
                sections.Add(m.Groups[1].Value);
            else if (line == "}")
                sections.RemoveAt(sections.Count - 1);
            else if ((m = KeyLine().Match(line)).Success && sections.Count > 0)
            {
                var key = string.Join(".", sections.Skip(1).Append(m.Groups[1].Value));
                declared.Add(new Declared(key, oneOf, range is { } r ? new SettingRange(key, r.Min, r.Max, r.Meaning) : null));
                (oneOf, range) = (null, null);
            }
            else if (line.Length == 0)
                (oneOf, range) = (null, null); // an annotation belongs to the key right below its comment block
        }
        return declared;
    }

    private static string ReadResource()
    {
        using var stream = typeof(SettingsSchema).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"embedded resource {Resource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^#\s*one of:\s*(.+)$")] private static partial Regex OneOfLine();
    [GeneratedRegex(@"^#\s*range:\s*(-?\d+)\.\.(-?\d+)\s*\((.+)\)$")] private static partial Regex RangeLine();
    [GeneratedRegex(@"^([a-z0-9_]+)\s*\{$")] private static partial Regex SectionLine();
    [GeneratedRegex(@"^([a-z0-9_]+)\s*=")] private static partial Regex KeyLine();
    [GeneratedRegex(@"^-?\d+$")] private static partial Regex IntegerForm();
    [GeneratedRegex(@"^-?(\d+\.\d*|\d*\.\d+|\d+)([eE][-+]?\d+)?$")] private static partial Regex DoubleForm();
    [GeneratedRegex(@"^\d+(\.\d+)?\s*(ms|s|m|h)$")] private static partial Regex DurationForm();
}
