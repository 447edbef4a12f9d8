using System.Runtime.InteropServices;
using System.Text;

namespace ActorFace.Model.Runtime;

/// <summary>
/// The malloc settings of <see cref="MallocTuning"/> as environment variables read by glibc at process start,
/// applied by re-executing the process once. <c>mallopt</c> from managed code comes too late for the arena
/// limit: the runtime's own threads (finalizer, tiered JIT, GC) have created arenas before <c>Main</c>, and a
/// later <c>M_ARENA_MAX = 1</c> only stops new arenas being made — threads started afterwards (actors, the
/// training loop) are handed the existing non-main arenas round-robin. Those arenas grow in heaps of at most
/// 64 MiB, so every bigger activation was mmapped and unmapped again: the real `train` job (mbf, batch 64) took
/// ~930,000 minor faults per step and a third of its CPU time in the kernel. With the variables set before the
/// first thread exists, all threads share the main arena and nothing is handed back (&lt; 1,000 faults per step).
/// </summary>
public static class MallocStartup
{
    /// <summary>Marks variables this class put into the environment (so ACTORFACE_MALLOC=default can take them out).</summary>
    const string Marker = "ACTORFACE_MALLOC_AT_START";

    static readonly (string Name, string Value)[] Variables =
    [
        ("MALLOC_ARENA_MAX", "1"),
        ("MALLOC_MMAP_MAX_", "0"),
        ("MALLOC_TRIM_THRESHOLD_", "18446744073709551615"),
    ];

    /// <summary>True when this process was started with the arena limit in its environment (ours or the user's).</summary>
    public static bool SetAtStart => Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null;

    /// <summary>
    /// Call first thing in Main. Re-executes the process (same pid, arguments and streams) when its environment
    /// does not match the wanted malloc mode; returns only when no re-exec was needed or it failed.
    /// Variables the user set himself are left alone.
    /// </summary>
    public static void EnsureAtProcessStart()
    {
        if (!OperatingSystem.IsLinux()) return;
        var changes = Plan(name => Environment.GetEnvironmentVariable(name));
        if (changes.Count == 0) return;
        foreach (var (name, value) in changes) Environment.SetEnvironmentVariable(name, value);
        Reexec();
    }

    /// <summary>
    /// The environment changes that make this process's start-up environment match the wanted malloc mode (null
    /// value = remove); empty when it already does. Variables the user set himself are left alone.
    /// </summary>
    public static IReadOnlyList<(string Name, string? Value)> Plan(Func<string, string?> env)
    {
        var changes = new List<(string, string?)>();
        if ((env("LD_PRELOAD") ?? "").Contains("malloc", StringComparison.Ordinal)) return changes;
        bool wantDefault = string.Equals(env("ACTORFACE_MALLOC"), "default", StringComparison.OrdinalIgnoreCase);
        bool ours = env(Marker) == "1";
        if (wantDefault && ours)
        {
            // A child of a tuned process asked for glibc's defaults (bench backbone --compare-malloc).
            foreach (var (name, _) in Variables) changes.Add((name, null));
            changes.Add((Marker, null));
        }
        else if (!wantDefault && env("MALLOC_ARENA_MAX") is null)
        {
            foreach (var (name, value) in Variables)
                if (env(name) is null) changes.Add((name, value));
            changes.Add((Marker, "1"));
        }
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
