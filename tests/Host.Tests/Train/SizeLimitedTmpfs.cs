namespace ActorFace.Host.Tests.Train;

/// <summary>A small tmpfs mounted for one test: a real "No space left on device" for checkpoint writes. Needs the
/// right to mount (root with CAP_SYS_ADMIN); <see cref="TmpfsFactAttribute"/> skips the test, saying why, elsewhere.</summary>
public sealed class SizeLimitedTmpfs : IDisposable
{
    public string Path { get; }

    public SizeLimitedTmpfs(int megabytes)
    {
        Path = Directory.CreateTempSubdirectory("af-tmpfs-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", Path);
        if (code != 0) throw new InvalidOperationException($"mount of a {megabytes} MiB tmpfs on {Path} failed: {output}");
    }

    public void Dispose()
    {
        Run("umount", Path);
        Directory.Delete(Path);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            var (code, stdout, stderr) = ChildProcess.Run(file, args, Timeout.InfiniteTimeSpan);
            return (code, (stdout + stderr).Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    /// <summary>Null when a tmpfs can be mounted here, else why not (probed once with a 1 MiB mount).</summary>
    public static readonly Lazy<string?> Unavailable = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux (tmpfs)";
        try
        {
            using var probe = new SizeLimitedTmpfs(1);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return "cannot mount a size-limited tmpfs here (needs root with CAP_SYS_ADMIN): " + e.Message;
        }
    });
}

public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute() => Skip = SizeLimitedTmpfs.Unavailable.Value;
}
