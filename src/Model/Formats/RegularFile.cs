using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ActorFace.Model.Formats;

/// <summary>
/// Opens a file the user named (an image, <c>--weights</c>, <c>--bin</c>, a pack input, a config or secret file) for
/// reading, and only if it is a regular file of at most the size its reader expects. A FIFO would block the open
/// forever and <c>/dev/zero</c> (even behind a symlink) would be read until memory runs out, so both are refused,
/// as are directories, devices and sockets. On Linux the file is opened non-blocking and its type and size are taken
/// from the open descriptor (no window between the check and the read); elsewhere the check is by path.
/// Errors are <see cref="FileNotFoundException"/>, <see cref="UnauthorizedAccessException"/> or
/// <see cref="InvalidDataException"/> whose message starts with the file name.
/// </summary>
public static class RegularFile
{
    /// <summary>The largest file <see cref="ReadAllBytes"/> can return (one .NET array).</summary>
    public static readonly long MaxArrayBytes = Array.MaxLength;

    /// <summary>Opens <paramref name="path"/> for reading; <paramref name="what"/> names it in errors ("--weights").</summary>
    public static FileStream OpenRead(string path, string what, long maxBytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw Missing(path, what);
            CheckSize(path, what, info.Length, maxBytes);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        var fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var reason = Marshal.GetLastPInvokeErrorMessage();
            throw errno switch
            {
                ENOENT or ENOTDIR => Missing(path, what),
                EACCES or EPERM => new UnauthorizedAccessException($"{Name(path, what)}: permission denied"),
                _ => new IOException($"{Name(path, what)}: cannot open ({reason})"),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var (mode, size) = Stat(handle, path, what);
            if ((mode & S_IFMT) != S_IFREG)
                throw new InvalidDataException($"{Name(path, what)}: is {Kind(mode)}{LinkNote(path)}, not a regular file; only regular files are read");
            CheckSize(path, what, size, maxBytes);
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The whole file, at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes)
    {
        using var stream = OpenRead(path, what, Math.Min(maxBytes, MaxArrayBytes));
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The whole file as UTF-8 text, at most <paramref name="maxBytes"/> bytes.</summary>
    public static string ReadAllText(string path, string what, long maxBytes)
    {
        using var stream = OpenRead(path, what, Math.Min(maxBytes, MaxArrayBytes));
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The file's lines, streamed (index and meta files can be hundreds of megabytes).</summary>
    public static IEnumerable<string> ReadLines(string path, string what, long maxBytes)
    {
        using var reader = new StreamReader(OpenRead(path, what, maxBytes), System.Text.Encoding.UTF8);
        while (reader.ReadLine() is { } line) yield return line;
    }

    /// <summary>Refuses a non-regular or oversized file without reading it (for readers that take a path, e.g. ONNX Runtime).</summary>
    public static void Require(string path, string what, long maxBytes)
    {
        using var _ = OpenRead(path, what, maxBytes);
    }

    static void CheckSize(string path, string what, long size, long maxBytes)
    {
        if (size > maxBytes)
            throw new InvalidDataException($"{Name(path, what)}: {size:N0} bytes, more than the {maxBytes:N0} this file may have");
    }

    static string Name(string path, string what) => what.Length == 0 ? path : $"{what} {path}";

    static FileNotFoundException Missing(string path, string what) => new($"{Name(path, what)}: file not found", path);

    static string LinkNote(string path)
    {
        try { return new FileInfo(path).LinkTarget is { } target ? $" (a symbolic link to {target})" : ""; }
        catch (IOException) { return ""; }
    }

    static string Kind(int mode) => (mode & S_IFMT) switch
    {
        S_IFIFO => "a FIFO (named pipe)",
        S_IFCHR => "a character device",
        S_IFDIR => "a directory",
        S_IFBLK => "a block device",
        S_IFSOCK => "a socket",
        S_IFLNK => "a symbolic link",
        _ => $"a special file (mode 0x{mode:X})",
    };

    /// <summary>statx(2) on the descriptor: its struct has one layout on every Linux architecture.</summary>
    static (int Mode, long Size) Stat(SafeFileHandle handle, string path, string what)
    {
        var buffer = new byte[256];
        var ok = false;
        handle.DangerousAddRef(ref ok);
        try
        {
            if (statx((int)handle.DangerousGetHandle(), "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, buffer) != 0)
                throw new IOException($"{Name(path, what)}: cannot stat ({Marshal.GetLastPInvokeErrorMessage()})");
        }
        finally
        {
            if (ok) handle.DangerousRelease();
        }
        return (BitConverter.ToUInt16(buffer, 28), (long)BitConverter.ToUInt64(buffer, 40));
    }

    const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    const int ENOENT = 2, ENOTDIR = 20, EACCES = 13, EPERM = 1;
    const int AT_EMPTY_PATH = 0x1000;
    const uint STATX_TYPE = 0x1, STATX_SIZE = 0x200;
    const int S_IFMT = 0xF000, S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000,
        S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFSOCK = 0xC000;

    [DllImport("libc", SetLastError = true)]
    static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
