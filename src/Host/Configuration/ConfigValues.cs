using System.Globalization;
using ActorFace.Actors.Settings;
using Akka.Configuration.Hocon;

namespace ActorFace.Host.Configuration;

/// <summary>Typed reads of `actorface.*` leaves with errors that name the key and the layer it came from.</summary>
public static class ConfigValues
{
    public static void Check(ConfigLayer layer, string key, ConfigKind kind) => Read(layer, key, kind);

    /// <summary>The key's value as <typeparamref name="T"/> (int or long for integer keys), its type from the schema.</summary>
    public static T Read<T>(ConfigLayer layer, string key)
    {
        var value = Read(layer, key, SettingsSchema.Keys[key]);
        if (typeof(T) == typeof(int) && value is long l)
        {
            if (l is < int.MinValue or > int.MaxValue)
                throw new ConfigException($"{layer.Source}: key '{SettingsSchema.Root}.{key}' must be an integer, got '{l}'");
            return (T)(object)(int)l;
        }
        return (T)value;
    }

    public static object Read(ConfigLayer layer, string key, ConfigKind kind)
    {
        var path = SettingsSchema.Root + "." + key;
        var value = layer.Config.GetValue(path);
        if (value is null)
            throw new ConfigException($"{layer.Source}: key '{path}' is missing");
        try
        {
            return kind switch
            {
                ConfigKind.Integer => long.Parse(Scalar(value), NumberStyles.Integer, CultureInfo.InvariantCulture),
                ConfigKind.Double => ParseDouble(Scalar(value)),
                ConfigKind.Bool => ParseBool(Scalar(value)),
                ConfigKind.String => Scalar(value),
                ConfigKind.Duration => ParseDuration(value),
                ConfigKind.StringList => List(value).Select(Scalar).ToArray(),
                ConfigKind.DoubleList => List(value).Select(v => ParseDouble(Scalar(v))).ToArray(),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }
        catch (NonFiniteException)
        {
            throw new ConfigException($"{layer.Source}: key '{path}' must be a finite number, got {Show(value)} " +
                                      "(NaN and infinity are refused; a literal beyond ±1.7e308, such as 1e400, overflows to infinity)");
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            throw new ConfigException($"{layer.Source}: key '{path}' must be {Describe(kind)}, got {Show(value)}");
        }
    }

    private static string Describe(ConfigKind kind) => kind switch
    {
        ConfigKind.Integer => "an integer",
        ConfigKind.Double => "a number",
        ConfigKind.Bool => "true or false",
        ConfigKind.String => "a string",
        ConfigKind.Duration => "a duration such as 30s or 2m",
        ConfigKind.StringList => "a list of strings [a, b]",
        ConfigKind.DoubleList => "a list of numbers [1.0, 0.5, 0.0]",
        _ => kind.ToString(),
    };

    private static string Show(HoconValue value) => value.IsObject() ? "a section { ... }" : $"'{value}'";

    private static string Scalar(HoconValue value)
    {
        if (value.IsObject() || value.IsArray())
            throw new InvalidCastException();
        return value.GetString() ?? "";
    }

    private static IEnumerable<HoconValue> List(HoconValue value)
    {
        // Akka's parser represents `[]` as a value whose only element is an empty array.
        if (value.Values.Count == 1 && value.Values[0] is HoconArray { Count: 0 })
            return [];
        if (value.IsEmpty)
            return [];
        if (!value.IsArray())
            throw new InvalidCastException();
        return value.GetArray();
    }

    /// <summary>Finite numbers only: .NET parses 1e400 as +Infinity and accepts "NaN", and a non-finite lr or margin
    /// passed every range check and broke the run later (JSON cannot carry it).</summary>
    private static double ParseDouble(string s)
    {
        var value = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(value) ? value : throw new NonFiniteException();
    }

    private sealed class NonFiniteException : Exception;

    private static bool ParseBool(string s) => s switch
    {
        "true" or "on" or "yes" => true,
        "false" or "off" or "no" => false,
        _ => throw new FormatException(),
    };

    private static TimeSpan ParseDuration(HoconValue value)
    {
        var s = Scalar(value).Trim();
        var units = new (string Suffix, double Seconds)[]
        {
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600),
        };
        foreach (var (suffix, seconds) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal) && !(suffix == "s" && s.EndsWith("ms", StringComparison.Ordinal)))
                return TimeSpan.FromSeconds(ParseDouble(s[..^suffix.Length].Trim()) * seconds);
        }
        throw new FormatException();
    }
}
