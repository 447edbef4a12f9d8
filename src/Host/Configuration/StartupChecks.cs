using ActorFace.Actors.Security;

namespace ActorFace.Host.Configuration;

/// <summary>Refusals that must happen before anything starts (no actor system, no listener, no data opened).</summary>
public static class StartupChecks
{
    /// <summary>Where the job file's own akka block may put Akka.Remote (it wins over actorface.cluster.hostname).</summary>
    public const string AkkaHostnameKey = "akka.remote.dot-netty.tcp.hostname";

    /// <summary>
    /// Refuses an unprotected Akka.Remote address other machines can reach, on the address the actor system will
    /// really bind (the rule <see cref="Clustering.ClusterRuntime"/> applies) and naming the key and file that set it.
    /// </summary>
    public static void RequireProtectedRemote(LoadedConfig loaded, ClusterSecurity security)
    {
        var fromAkka = loaded.Hocon.HasPath(AkkaHostnameKey) ? loaded.Hocon.GetString(AkkaHostnameKey) : null;
        var (key, hostname) = fromAkka is { Length: > 0 }
            ? (AkkaHostnameKey, fromAkka)
            : (ActorFace.Actors.Settings.SettingsSchema.Root + ".cluster.hostname", loaded.Settings.Cluster.Hostname);
        try
        {
            security.RequireRemote(hostname);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{Origin(loaded, key)}: key '{key}' = '{hostname}': {e.Message}");
        }
    }

    /// <summary>The highest-priority layer that sets the full key path.</summary>
    static string Origin(LoadedConfig loaded, string path)
    {
        for (var i = loaded.Layers.Count - 1; i >= 0; i--)
            if (loaded.Layers[i].Config.HasPath(path))
                return loaded.Layers[i].Source;
        return "configuration";
    }
}
