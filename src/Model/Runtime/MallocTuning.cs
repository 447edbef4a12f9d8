using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ActorFace.Model.Runtime;

/// <summary>
/// glibc's malloc hands every block above its mmap threshold (32 MB at most) back to the kernel on free,
/// so each libtorch training step faults gigabytes of activations in again: measured 3-4x slower for an
/// IResNet-18 step. Telling malloc to never mmap and never trim keeps freed blocks in the heap for reuse.
/// That alone only helps the main thread: every other thread (actors, thread-pool continuations) gets its own
/// arena, whose heaps are capped at 64 MiB, and glibc mmaps bigger blocks for them whatever M_MMAP_MAX says, then
/// unmaps them on free (a 1M-class Partial FC step on a pool thread spent 5 of its 11 s refaulting its 2 GB
/// gradient, ~11 µs per page in this VM). So there is one arena for all threads.
/// On by default for every process that loads this assembly, unless another allocator is preloaded (the CLI preloads
/// jemalloc where it exists: <see cref="MallocStartup"/>); ACTORFACE_MALLOC=default turns it off. The arena limit
/// only holds for all threads when set before the process starts: the CLI does that; a process that only gets
/// mallopt (a test host) reports "keep-memory (mallopt only)".
/// </summary>
public static class MallocTuning
{
    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_MAX = -4;
    const int M_ARENA_MAX = -8;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);

    public static bool Applied { get; private set; }
    public static string Mode { get; private set; } = "unset";

    /// <summary>Applies the setting once; safe to call from anywhere.</summary>
    public static void Apply()
    {
        if (Mode != "unset") return;
        lock (typeof(MallocTuning))
        {
            if (Mode != "unset") return;
            var wanted = Environment.GetEnvironmentVariable("ACTORFACE_MALLOC");
            if (string.Equals(wanted, "default", StringComparison.OrdinalIgnoreCase) ||
                !OperatingSystem.IsLinux() || IsPreloaded())
            {
                Mode = !IsPreloaded() ? "glibc-default" :
                    Preload.Contains("jemalloc", StringComparison.Ordinal) ? "jemalloc" : "preloaded";
                return;
            }
            try
            {
                Applied = mallopt(M_ARENA_MAX, 1) == 1 & mallopt(M_MMAP_MAX, 0) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
                Mode = !Applied ? "glibc-default" : MallocStartup.SetAtStart ? "keep-memory" : "keep-memory (mallopt only)";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Mode = "glibc-default"; // musl or another libc: nothing to tune
            }
        }
    }

    static string Preload => Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "";

    static bool IsPreloaded() => Preload.Contains("malloc", StringComparison.Ordinal);

    [ModuleInitializer]
    internal static void OnLoad() => Apply();
}
