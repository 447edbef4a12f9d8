using ActorFace.Actors.Security;
using ActorFace.Model.Security;

namespace ActorFace.Host.Configuration;

/// <summary>
/// Binds `actorface.cluster.secret_file`, `cluster.tls { certificate, key, ca }` and `cluster.allow_insecure` to a
/// <see cref="ClusterSecurity"/>. These are per node (not in the settings digest): every node names its own files.
/// A missing or unusable file is a <see cref="ConfigException"/> naming the key and the layer that set it.
/// </summary>
public static class SecurityConfig
{
    public static ClusterSecurity Load(LoadedConfig loaded, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string Get(string key) => (string)ConfigValues.Read(new ConfigLayer(Origin(loaded, key), loaded.Hocon), key, ConfigKind.String);
        var allowInsecure = (bool)ConfigValues.Read(new ConfigLayer(Origin(loaded, "cluster.allow_insecure"), loaded.Hocon), "cluster.allow_insecure", ConfigKind.Bool);

        ClusterSecret? secret = null;
        var secretFile = Get("cluster.secret_file");
        var secretSource = $"{Origin(loaded, "cluster.secret_file")}: key 'actorface.cluster.secret_file'";
        if (secretFile.Length == 0 && environment(ClusterSecret.FileVariable) is { Length: > 0 } fromEnv)
            (secretFile, secretSource) = (fromEnv, $"environment variable {ClusterSecret.FileVariable}");
        if (secretFile.Length > 0)
        {
            try { secret = ClusterSecret.FromFile(secretFile); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new ConfigException($"{secretSource}: {e.Message}");
            }
        }

        string[] tlsKeys = ["cluster.tls.certificate", "cluster.tls.key", "cluster.tls.ca"];
        var tls = tlsKeys.Select(Get).ToArray();
        TlsCredentials? files = null;
        if (tls.Any(v => v.Length > 0))
        {
            var missing = tlsKeys.Where((_, i) => tls[i].Length == 0).ToArray();
            if (missing.Length > 0)
                throw new ConfigException($"{Origin(loaded, tlsKeys[Array.FindIndex(tls, v => v.Length > 0)])}: " +
                                          $"actorface.cluster.tls needs certificate, key and ca together; missing {string.Join(", ", missing.Select(k => "'actorface." + k + "'"))}");
            try { files = TlsCredentials.FromPemFiles(tls[0], tls[1], tls[2]); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new ConfigException($"{Origin(loaded, "cluster.tls.certificate")}: key 'actorface.cluster.tls': {e.Message}");
            }
        }
        return new ClusterSecurity(secret, files, allowInsecure);
    }

    /// <summary>The highest-priority layer that sets the key (errors point at the file or variable to fix).</summary>
    static string Origin(LoadedConfig loaded, string key)
    {
        for (var i = loaded.Layers.Count - 1; i >= 0; i--)
            if (loaded.Layers[i].Config.HasPath(ConfigSchema.Root + "." + key))
                return loaded.Layers[i].Source;
        return "configuration";
    }
}
