using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ActorFace.Model.Runtime;

/// <summary>
/// glibc's malloc hands every block above its mmap threshold (32 MB at most) back to the kernel on free,
/// so each libtorch training step faults gigabytes of activations in again: measured 3-4x slower for an
/// IResNet-18 step. Telling malloc to never mmap and never trim keeps freed blocks in the heap for reuse.
/// On by default for every process that loads this assembly; ACTORFACE_MALLOC=default turns it off.
/// </summary>
public static class MallocTuning
{
    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_MAX = -4;

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
                Mode = IsPreloaded() ? "preloaded" : "glibc-default";
                return;
            }
            try
            {
                Applied = mallopt(M_MMAP_MAX, 0) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
                Mode = Applied ? "keep-memory" : "glibc-default";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Mode = "glibc-default"; // musl or another libc: nothing to tune
            }
        }
    }

    static bool IsPreloaded() =>
        (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("malloc", StringComparison.Ordinal);

    [ModuleInitializer]
    internal static void OnLoad() => Apply();
}
