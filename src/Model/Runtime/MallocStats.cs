using System.Runtime.InteropServices;

namespace ActorFace.Model.Runtime;

/// <summary>
/// glibc's heap as malloc sees it (mallinfo2): bytes taken from the kernel and bytes handed out. With the
/// keep-memory tuning freed blocks stay in the heap, so RSS alone cannot tell live tensors from fragmentation:
/// the difference of the two can. Zeros where glibc (2.33+) is missing.
/// </summary>
public readonly record struct MallocStats(long HeapBytes, long InUseBytes)
{
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 mallinfo2();

    public static MallocStats Read()
    {
        if (!OperatingSystem.IsLinux()) return default;
        try
        {
            var info = mallinfo2();
            // arena: sbrk'd main heap plus the other arenas' heaps; hblkhd: mmapped blocks (in use by definition).
            return new MallocStats((long)(info.arena + info.hblkhd), (long)(info.uordblks + info.hblkhd));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return default;
        }
    }
}
