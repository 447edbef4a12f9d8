using Akka.Configuration;

namespace ActorFace.Actors.Settings;

/// <summary>
/// Typed reads of `actorface.*` keys for the binders next to the settings records. The host's reader names the file
/// or variable that set a bad value (Host/Configuration); <see cref="ConfigSettingsReader"/> reads a plain Config.
/// </summary>
public interface ISettingsReader
{
    /// <summary>The value of <paramref name="key"/> (relative to `actorface.`), which the reference file must declare.</summary>
    T Get<T>(string key);

    /// <summary>Refuses the configuration with <paramref name="message"/> about <paramref name="key"/> unless <paramref name="condition"/>.</summary>
    void Require(string key, bool condition, string message);
}

/// <summary>Reads a Config whose `actorface` section is complete (over the reference: <see cref="Over"/>).</summary>
public sealed class ConfigSettingsReader(Config config) : ISettingsReader
{
    /// <summary>A reader of <paramref name="config"/> with the reference file's defaults under it.</summary>
    public static ConfigSettingsReader Over(Config config) => new(config.WithFallback(SettingsSchema.Reference));

    public T Get<T>(string key)
    {
        if (!SettingsSchema.Keys.ContainsKey(key))
            throw new InvalidOperationException($"'{SettingsSchema.Root}.{key}' is not declared in actorface-reference.conf");
        var path = SettingsSchema.Root + "." + key;
        object value = typeof(T) switch
        {
            var t when t == typeof(int) => config.GetInt(path),
            var t when t == typeof(long) => config.GetLong(path),
            var t when t == typeof(double) => config.GetDouble(path),
            var t when t == typeof(bool) => config.GetBoolean(path),
            var t when t == typeof(string) => config.GetString(path),
            var t when t == typeof(TimeSpan) => config.GetTimeSpan(path),
            var t when t == typeof(string[]) => config.GetStringList(path).ToArray(),
            var t when t == typeof(double[]) => config.GetDoubleList(path).ToArray(),
            var t when t == typeof(object) => config.GetString(path),
            _ => throw new NotSupportedException($"{typeof(T).Name} settings"),
        };
        return (T)value;
    }

    public void Require(string key, bool condition, string message)
    {
        if (!condition) throw new ArgumentException($"key '{SettingsSchema.Root}.{key}' {message}");
    }
}
