namespace ActorFace.Model.Runtime;

/// <summary>This CPU's feature flags as /proc/cpuinfo lists them (Linux); none elsewhere.</summary>
public static class CpuFlags
{
    static readonly Lazy<HashSet<string>> flags = new(Read);

    public static bool Has(string flag) => flags.Value.Contains(flag);

    static HashSet<string> Read()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return line is null ? [] : line.Split(' ', ':', '\t').Where(f => f.Length > 0).ToHashSet();
        }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }
}
