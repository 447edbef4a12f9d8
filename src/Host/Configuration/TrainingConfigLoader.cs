using System.Collections;
using System.Text.Json;
using ActorFace.Actors.Settings;

namespace ActorFace.Host.Configuration;

/// <summary>The merged configuration: the training settings plus the raw HOCON (its `akka` section feeds the actor system).</summary>
public sealed record LoadedConfig(ActorFace.Actors.Settings.TrainingSettings Settings, Akka.Configuration.Config Hocon,
    IReadOnlyList<ConfigLayer> Layers)
{
    /// <summary>The notices of every layer, to be logged once at start-up.</summary>
    public IEnumerable<string> Notices => Layers.SelectMany(l => l.Notices);
}

/// <summary>
/// Layers the configuration like arcface_torch overlays configs/&lt;job&gt;.py onto configs/base.py, then adds
/// environment variables and --set overrides: reference &lt; file &lt; ACTORFACE__* &lt; --set. The file is HOCON, or an
/// arcface_torch Python config (*.py: base.py &lt; job.py, see ArcfaceTorchConfig).
/// </summary>
public static class TrainingConfigLoader
{
    public const string EnvPrefix = "ACTORFACE__";

    /// <summary>The reference configuration (src/Actors/Settings/actorface-reference.conf, embedded there).</summary>
    public static string ReferenceText() => SettingsSchema.ReferenceText;

    public static LoadedConfig Load(string? configFile, IEnumerable<string>? sets = null, IDictionary? environment = null)
    {
        var layers = new List<ConfigLayer> { ConfigLayer.Parse("reference configuration", ReferenceText()) };
        var configName = "actorface";
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new ConfigException($"config file '{configFile}' does not exist");
            // An arcface_torch configs/*.py job is read (never run) as layers over its base.py, one per `config.key = ...` line.
            if (ArcfaceTorch.ArcfaceTorchConfig.IsPythonConfig(configFile))
                layers.AddRange(ArcfaceTorch.ArcfaceTorchConfig.Layers(configFile));
            else
                layers.Add(ConfigLayer.Parse(configFile, ReadConfigFile(configFile)));
            configName = Path.GetFileNameWithoutExtension(configFile);
        }
        layers.AddRange(EnvironmentLayers(environment ?? Environment.GetEnvironmentVariables()));
        foreach (var set in sets ?? [])
            layers.Add(SetLayer(set));

        foreach (var layer in layers)
            layer.Validate();

        var merged = layers[0].Config;
        foreach (var layer in layers.Skip(1))
            merged = layer.Config.WithFallback(merged);
        var settings = TrainingSettingsBinder.Bind(new LayeredSettingsReader(merged, layers), configName);
        return new LoadedConfig(settings, merged, layers);
    }

    /// <summary>Largest config file read; job files are a few kilobytes.</summary>
    public const long MaxConfigBytes = 4L << 20;

    /// <summary>A regular file of at most <see cref="MaxConfigBytes"/> (a FIFO or a device is refused, not read forever).</summary>
    private static string ReadConfigFile(string path)
    {
        try { return ActorFace.Model.Formats.RegularFile.ReadAllText(path, "config file", MaxConfigBytes); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ConfigException(e.Message);
        }
    }

    /// <summary>`key=value`, key relative to `actorface.` (or starting with `akka.`); value in HOCON syntax.</summary>
    public static ConfigLayer SetLayer(string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new ConfigException($"--set '{assignment}': expected key=value");
        var key = assignment[..eq].Trim();
        var value = assignment[(eq + 1)..].Trim();
        return Assignment($"--set {assignment}", key, value);
    }

    private static IEnumerable<ConfigLayer> EnvironmentLayers(IDictionary environment)
    {
        var names = environment.Keys.Cast<object>().Select(k => k.ToString()!)
            .Where(k => k.StartsWith(EnvPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var key = name[EnvPrefix.Length..].ToLowerInvariant().Replace("__", ".");
            yield return Assignment($"environment variable {name}", key, environment[name]?.ToString() ?? "");
        }
    }

    private static ConfigLayer Assignment(string source, string key, string value)
    {
        var path = key.StartsWith("akka.", StringComparison.Ordinal) || key.StartsWith(SettingsSchema.Root + ".", StringComparison.Ordinal)
            ? key : SettingsSchema.Root + "." + key;
        var relative = path.StartsWith(SettingsSchema.Root + ".", StringComparison.Ordinal) ? path[(SettingsSchema.Root.Length + 1)..] : null;
        // Strings are quoted so that paths (`/data//x`, `C:\x`) survive HOCON's comment and separator rules.
        var isString = relative is not null && SettingsSchema.Keys.TryGetValue(relative, out var kind) && kind == ConfigKind.String;
        var rendered = isString && !value.StartsWith('"') ? JsonSerializer.Serialize(value) : value;
        // The one place a HOCON statement is put together from text: the value is HOCON written by the user
        // (`--set val_targets=[lfw]`), and it is parsed as `key = value` so that a substitution in it is checked
        // against its own key (`--set lr=${actorface.lr}` is refused as a self-reference, not left unresolved).
        return ConfigLayer.Parse(source, path + " = " + rendered);
    }
}
