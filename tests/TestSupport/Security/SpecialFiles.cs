using System.Runtime.InteropServices;

namespace ActorFace.Tests;

/// <summary>Files that are not regular files: a FIFO (an open blocks until a writer comes) and a symlink to /dev/zero (endless).</summary>
public static class SpecialFiles
{
    [DllImport("libc", SetLastError = true)]
    static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    public static string Fifo(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (mkfifo(path, 0x180 /* 0600 */) != 0) throw new IOException($"mkfifo {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        return path;
    }

    public static string DevZeroLink(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        File.CreateSymbolicLink(path, "/dev/zero");
        return path;
    }

    /// <summary>One FIFO and one /dev/zero link, both named with <paramref name="extension"/>.</summary>
    public static string[] Both(string dir, string extension) =>
        [Fifo(dir, "fifo" + extension), DevZeroLink(dir, "zero" + extension)];
}
