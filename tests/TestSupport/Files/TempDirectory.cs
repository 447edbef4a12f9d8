namespace ActorFace.Tests;

/// <summary>
/// A scratch folder under the system temp folder, deleted with its contents on dispose. It converts to its path, so a
/// test class holds one as a field where it would hold the folder's path, and disposes it in its own Dispose.
/// </summary>
public sealed class TempDirectory(string prefix = "actorface-test-") : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public static implicit operator string(TempDirectory directory) => directory.Path;

    public override string ToString() => Path;

    public void Dispose()
    {
        // A test that failed half-way may leave a file open or a read-only folder behind; that is no reason to fail
        // the next test.
        try { Directory.Delete(Path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
