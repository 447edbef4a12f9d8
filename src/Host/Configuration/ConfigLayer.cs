using ActorFace.Actors.Settings;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace ActorFace.Host.Configuration;

/// <summary>One source of configuration (the reference, a file, the environment, a --set) with its name.</summary>
public sealed record ConfigLayer(string Source, Akka.Configuration.Config Config)
{
    /// <summary>Lines to log once when this layer is used (e.g. what ActorFace does instead of an arcface_torch-only key).</summary>
    public IReadOnlyList<string> Notices { get; init; } = [];

    /// <summary>Rejects unknown keys and values of the wrong type, naming the key and this layer's source.</summary>
    public void Validate()
    {
        if (Config.IsEmpty) return;
        foreach (var (key, _) in Config.Root.GetObject().Items)
        {
            if (key != SettingsSchema.Root && key != "akka")
                throw new ConfigException($"{Source}: unknown top-level key '{key}' (only 'actorface' and 'akka' sections are allowed)");
        }
        var section = Config.Root.GetObject().Items.GetValueOrDefault(SettingsSchema.Root);
        if (section is null) return;
        if (!section.IsObject())
            throw new ConfigException($"{Source}: '{SettingsSchema.Root}' must be an object {{ ... }}");
        Walk(section.GetObject(), "");
    }

    private void Walk(HoconObject obj, string prefix)
    {
        foreach (var (name, value) in obj.Items)
        {
            var key = prefix.Length == 0 ? name : prefix + "." + name;
            if (SettingsSchema.IsLeaf(key))
                ConfigValues.Check(this, key, SettingsSchema.Keys[key]);
            else if (SettingsSchema.IsSection(key))
            {
                if (!value.IsObject())
                    throw new ConfigException($"{Source}: key '{SettingsSchema.Root}.{key}' must be a section {{ ... }}");
                Walk(value.GetObject(), key);
            }
            else
                throw new ConfigException($"{Source}: unknown key '{SettingsSchema.Root}.{key}'{Suggest(key)}");
        }
    }

    private static string Suggest(string key)
    {
        var best = SettingsSchema.Keys.Keys.OrderBy(k => Distance(k, key)).First();
        return Distance(best, key) <= 3 ? $" (did you mean '{best}'?)" : "";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    /// <summary>A layer that sets one key (a dotted path) to a plain value (string, number, bool or array of them),
    /// built as an object so that the value is quoted, never pasted into HOCON text.</summary>
    public static ConfigLayer FromValue(string source, string path, object value)
    {
        var segments = path.Split('.');
        object nested = value;
        for (var i = segments.Length - 1; i >= 0; i--)
            nested = new Dictionary<string, object> { [segments[i]] = nested };
        return new ConfigLayer(source, ConfigurationFactory.FromObject(nested));
    }

    public static ConfigLayer Parse(string source, string hocon)
    {
        try
        {
            // Akka's parser loops forever on some malformed input; SafeHocon rejects those first, with a deadline.
            return new ConfigLayer(source, ActorFace.Actors.Security.SafeHocon.Parse(source, hocon));
        }
        catch (ConfigurationException e) when (e.Message.StartsWith(source + ": ", StringComparison.Ordinal))
        {
            throw new ConfigException(e.Message); // SafeHocon's messages already name the source
        }
        catch (Exception e) when (e is not ConfigException)
        {
            throw new ConfigException($"{source}: not valid HOCON: {e.Message}");
        }
    }
}
