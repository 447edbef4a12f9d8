using ActorFace.Actors.Security;
using ActorFace.Actors.Settings;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Host.Configuration;

/// <summary>
/// Turns `actorface.cluster.secret_file`, `cluster.tls { certificate, key, ca }` and `cluster.allow_insecure`
/// (bound by <see cref="ClusterSecuritySettings"/>) into a <see cref="ClusterSecurity"/>. These are per node (not in the settings digest): every node names its own files.
/// A missing or unusable file is a <see cref="ConfigException"/> naming the key and the layer that set it.
/// </summary>
public static class SecurityConfig
{
    public static ClusterSecurity Load(LoadedConfig loaded, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var reader = new LayeredSettingsReader(loaded);
        var settings = ClusterSecuritySettings.Read(reader);

        ClusterSecret? secret = null;
        var secretFile = settings.SecretFile;
        var secretSource = $"{reader.Origin("cluster.secret_file")}: key 'actorface.cluster.secret_file'";
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
        string[] tls = [settings.TlsCertificate, settings.TlsKey, settings.TlsCa];
        TlsCredentials? files = null;
        if (tls.Any(v => v.Length > 0))
        {
            var missing = tlsKeys.Where((_, i) => tls[i].Length == 0).ToArray();
            if (missing.Length > 0)
                throw new ConfigException($"{reader.Origin(tlsKeys[Array.FindIndex(tls, v => v.Length > 0)])}: " +
                                          $"actorface.cluster.tls needs certificate, key and ca together; missing {string.Join(", ", missing.Select(k => "'actorface." + k + "'"))}");
            try { files = TlsCredentials.FromPemFiles(tls[0], tls[1], tls[2]); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new ConfigException($"{reader.Origin("cluster.tls.certificate")}: key 'actorface.cluster.tls': {e.Message}");
            }
        }
        return new ClusterSecurity(secret, files, settings.AllowInsecure);
    }
}
