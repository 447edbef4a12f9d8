using ActorFace.Actors.Settings;

namespace ActorFace.Host.Configuration;

/// <summary>
/// The binders' reads (<see cref="ISettingsReader"/>) over the merged layers: a bad value is a
/// <see cref="ConfigException"/> naming the key and the highest-priority layer that set it (the file to fix).
/// </summary>
public sealed class LayeredSettingsReader(Akka.Configuration.Config merged, IReadOnlyList<ConfigLayer> layers) : ISettingsReader
{
    public LayeredSettingsReader(LoadedConfig loaded) : this(loaded.Hocon, loaded.Layers) { }

    public T Get<T>(string key) => ConfigValues.Read<T>(new ConfigLayer(Origin(key), merged), key);

    public void Require(string key, bool condition, string message)
    {
        if (!condition)
            throw new ConfigException($"{Origin(key)}: key '{SettingsSchema.Root}.{key}' {message}");
    }

    /// <summary>The highest-priority layer that sets the key, so that errors point at the file the user must fix.</summary>
    public string Origin(string key)
    {
        for (var i = layers.Count - 1; i >= 0; i--)
            if (layers[i].Config.HasPath(SettingsSchema.Root + "." + key))
                return layers[i].Source;
        return "configuration";
    }
}
