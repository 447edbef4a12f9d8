namespace ActorFace.Host.Configuration;

public sealed class OutputDirectoryException(string message, Exception? inner = null) : Exception(message, inner);

public static class OutputDirectory
{
    /// <summary>Fails before any actor starts when the output directory cannot be created or written.</summary>
    public static void EnsureWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new OutputDirectoryException($"output directory '{directory}' is not writable (actorface.output): {e.Message}", e);
        }
    }
}
