using System.Runtime.InteropServices;
using System.Text;

namespace ActorFace.Model.Runtime;

/// <summary>
/// Chooses the allocator before the first thread exists, by re-executing the process once with the variables the
/// allocator reads at start-up (same pid, arguments and streams).
/// <list type="bullet">
/// <item><b>jemalloc</b>, where the system has it (Debian/Ubuntu: <c>apt-get install libjemalloc2</c>), preloaded with
/// no page decay and per-thread arenas for big blocks (<see cref="JemallocConf"/>): freed activations are kept for the
/// next step (no refaulting) and its size classes keep the heap near the bytes in use. r18 training, batch 32: peak RSS 2.2 GB against 3.8–4.8 GB with glibc's heap, same
/// speed (docs/performance.md).</item>
/// <item><b>glibc keep-memory</b> otherwise (<see cref="MallocTuning"/>: one arena, no mmap, no trim). <c>mallopt</c>
/// from managed code comes too late for the arena limit: the runtime's own threads (finalizer, tiered JIT, GC) have
/// created arenas before <c>Main</c>, and threads started afterwards (actors, the training loop) are handed those
/// non-main arenas, whose 64 MiB heaps make every bigger activation an mmap unmapped again on free (~930,000 minor
/// faults per step in the real job before this). Best-fit over one heap fragments, though: peak RSS is 1.7–2.5× the
/// bytes in use.</item>
/// </list>
/// <c>ACTORFACE_MALLOC</c> = <c>jemalloc</c> | <c>glibc</c> | <c>default</c> (glibc untouched) picks one; unset picks the
/// first available. Variables the user set himself, and an allocator he preloaded, are left alone.
/// </summary>
public static class MallocStartup
{
    /// <summary>Names the variables this class put into the environment, so that another mode can take them out.</summary>
    const string Marker = "ACTORFACE_MALLOC_AT_START";

    static readonly (string Name, string Value)[] GlibcVariables =
    [
        ("MALLOC_ARENA_MAX", "1"),
        ("MALLOC_MMAP_MAX_", "0"),
        ("MALLOC_TRIM_THRESHOLD_", "18446744073709551615"),
    ];

    /// <summary>
    /// Freed pages are never purged (they are the next step's activations), and blocks over 8 MiB stay in the
    /// allocating thread's arena instead of jemalloc's one shared "oversize" arena. Without purging, jemalloc never
    /// coalesces freed extents; one rank repeats the same sizes every step and reuses them exactly, but two ranks
    /// interleaving in one shared arena (the oversize one, or narenas:1) grew by ~700 MB a step until the OOM killer
    /// stopped them. Ranks run on pinned threads, so each keeps its own arena: two ranks in one process flat at 6.4 GB.
    /// </summary>
    public const string JemallocConf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,oversize_threshold:0";

    static readonly string[] JemallocPaths =
    [
        "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2", "/usr/local/lib/libjemalloc.so.2",
    ];

    /// <summary>True when this process was started with the glibc arena limit in its environment (ours or the user's).</summary>
    public static bool SetAtStart => Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null;

    /// <summary>The jemalloc library the auto mode would preload, or null.</summary>
    public static string? FindJemalloc(Func<string, bool> exists) => JemallocPaths.FirstOrDefault(exists);

    /// <summary>
    /// Call first thing in Main. Re-executes the process when its environment does not match the wanted malloc mode;
    /// returns only when no re-exec was needed or it failed.
    /// </summary>
    public static void EnsureAtProcessStart()
    {
        if (!OperatingSystem.IsLinux()) return;
        var changes = Plan(Environment.GetEnvironmentVariable, File.Exists);
        if (changes.Count == 0) return;
        foreach (var (name, value) in changes) Environment.SetEnvironmentVariable(name, value);
        Reexec();
    }

    /// <summary>
    /// The environment changes that make this process's start-up environment match the wanted malloc mode (null
    /// value = remove); empty when it already does.
    /// </summary>
    public static IReadOnlyList<(string Name, string? Value)> Plan(Func<string, string?> env, Func<string, bool> exists)
    {
        var ours = (env(Marker) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var preload = env("LD_PRELOAD") ?? "";
        if (preload.Contains("malloc", StringComparison.Ordinal) && !ours.Contains("LD_PRELOAD")) return [];

        var mode = (env("ACTORFACE_MALLOC") ?? "").ToLowerInvariant();
        bool mayPreload = preload.Length == 0 || ours.Contains("LD_PRELOAD");
        var jemalloc = mode is "" or "auto" or "jemalloc" && mayPreload ? FindJemalloc(exists) : null; // else glibc
        (string Name, string Value)[] wanted =
            mode == "default" ? [] :
            jemalloc is not null ? [("LD_PRELOAD", jemalloc), ("MALLOC_CONF", JemallocConf)] :
            GlibcVariables;
        // The user's own glibc arena limit means he tuned glibc himself: leave it all to him.
        if (wanted == GlibcVariables && env("MALLOC_ARENA_MAX") is not null && !ours.Contains("MALLOC_ARENA_MAX")) return [];

        var changes = new List<(string, string?)>();
        var nowOurs = new List<string>();
        foreach (var name in ours.Where(n => wanted.All(w => w.Name != n)).Order()) changes.Add((name, null));
        foreach (var (name, value) in wanted)
        {
            if (ours.Contains(name) || env(name) is null)
            {
                nowOurs.Add(name);
                if (env(name) != value) changes.Add((name, value));
            }
        }
        var marker = nowOurs.Count == 0 ? null : string.Join(",", nowOurs);
        if (env(Marker) != marker) changes.Add((Marker, marker));
        return changes;
    }

    static void Reexec()
    {
        string[] argv;
        try
        {
            argv = File.ReadAllText("/proc/self/cmdline", Encoding.UTF8).TrimEnd('\0').Split('\0');
        }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        if (argv.Length == 0 || argv[0].Length == 0) return;
        // Environment.SetEnvironmentVariable only changes the runtime's copy; execve gets the full list explicitly.
        var env = Environment.GetEnvironmentVariables();
        var envp = new List<string>(env.Count);
        foreach (System.Collections.DictionaryEntry e in env) envp.Add($"{e.Key}={e.Value}");
        Console.Out.Flush();
        Console.Error.Flush();
        var argvPtrs = ToNative(argv);
        var envPtrs = ToNative(envp);
        // The executable's own path, not /proc/self/exe: the kernel names the process after the file it executes, and
        // ps, top and the OOM killer's log should say actorface (or dotnet), not "exe".
        var self = Environment.ProcessPath ?? "/proc/self/exe";
        execve(self, argvPtrs, envPtrs); // returns only on failure: go on with mallopt (MallocTuning)
        foreach (var p in argvPtrs.Concat(envPtrs)) if (p != IntPtr.Zero) Marshal.FreeCoTaskMem(p);
    }

    static IntPtr[] ToNative(IReadOnlyList<string> strings)
    {
        var ptrs = new IntPtr[strings.Count + 1];
        for (int i = 0; i < strings.Count; i++) ptrs[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        return ptrs;
    }

    [DllImport("libc", SetLastError = true)]
    static extern int execve(string path, IntPtr[] argv, IntPtr[] envp);
}
