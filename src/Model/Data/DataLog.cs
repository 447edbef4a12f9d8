using System.Collections.Concurrent;

namespace ActorFace.Model.Data;

/// <summary>
/// Where data warnings go (stderr by default; the host or an actor may redirect it). <see cref="WarnOnce"/>
/// keeps per-file/per-kind warnings from flooding the log on a large dataset.
/// </summary>
public static class DataLog
{
    static readonly ConcurrentDictionary<string, byte> seen = new();

    public static Action<string> Sink { get; set; } = message => Console.Error.WriteLine("warning: " + message);

    public static void Warn(string message) => Sink(message);

    /// <summary>Warns the first time <paramref name="key"/> is seen in this process.</summary>
    public static bool WarnOnce(string key, string message)
    {
        if (!seen.TryAdd(key, 0)) return false;
        Sink(message);
        return true;
    }
}
