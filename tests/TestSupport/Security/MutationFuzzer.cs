namespace ActorFace.Tests;

/// <summary>
/// A small seeded mutation fuzzer for file and wire parsers. Each case mutates a valid seed input (bit flips,
/// byte insert/delete, "interesting" values written over 1/2/4/8-byte fields so length fields are smashed,
/// truncation, chunk duplication) and runs the parser on a worker thread with a deadline. A case passes when the
/// parser returns or throws one of the accepted exception types with a message; anything else — another exception
/// type, a hang past the deadline, a process-killing failure — is a finding. Same seed, same cases.
/// </summary>
public sealed class MutationFuzzer
{
    /// <summary>Environment variable that overrides the case count (for long opt-in runs).</summary>
    public const string CasesVariable = "ACTORFACE_FUZZ_CASES";

    static readonly long[] Interesting =
    [
        0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue,
        0x10000, 0x1000000, long.MaxValue, long.MinValue,
    ];

    readonly Random random;

    public MutationFuzzer(int seed) => random = new Random(seed);

    /// <summary>The case count: <c>ACTORFACE_FUZZ_CASES</c> when set, else <paramref name="defaultCases"/>.</summary>
    public static int CaseCount(int defaultCases) =>
        int.TryParse(Environment.GetEnvironmentVariable(CasesVariable), out var n) && n > 0 ? n : defaultCases;

    /// <summary>One mutant of <paramref name="seed"/> (1 to 4 stacked mutations).</summary>
    public byte[] Mutate(ReadOnlySpan<byte> seed)
    {
        var data = new List<byte>(seed.Length + 16);
        data.AddRange(seed.ToArray());
        var count = 1 + random.Next(4);
        for (var i = 0; i < count; i++) MutateOnce(data);
        return data.ToArray();
    }

    void MutateOnce(List<byte> data)
    {
        if (data.Count == 0) { data.Add((byte)random.Next(256)); return; }
        int at = random.Next(data.Count);
        switch (random.Next(8))
        {
            case 0: // bit flip
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1: // random byte
                data[at] = (byte)random.Next(256);
                break;
            case 2: // insert bytes
                data.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256)));
                break;
            case 3: // delete bytes
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(8)));
                break;
            case 4: // truncate
                data.RemoveRange(at, data.Count - at);
                break;
            case 5: // duplicate a chunk
            {
                var length = Math.Min(data.Count - at, 1 + random.Next(64));
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                break;
            }
            default: // smash a (length) field with an interesting value, 1/2/4/8 bytes, either endianness
            {
                var width = 1 << random.Next(4);
                var value = Interesting[random.Next(Interesting.Length)];
                var bigEndian = random.Next(2) == 0;
                for (var b = 0; b < width && at + b < data.Count; b++)
                {
                    var shift = 8 * (bigEndian ? width - 1 - b : b);
                    data[at + b] = (byte)(value >> shift);
                }
                break;
            }
        }
    }

    /// <summary>Runs <paramref name="cases"/> mutants of the seeds through <paramref name="parse"/>; see <see cref="FuzzReport"/>.</summary>
    public FuzzReport Run(IReadOnlyList<byte[]> seeds, int cases, Action<byte[]> parse, IReadOnlyCollection<Type> accepted,
                          TimeSpan perCase, long maxAllocatedBytes = 256L << 20)
    {
        var report = new FuzzReport();
        for (var i = 0; i < cases; i++)
        {
            var input = Mutate(seeds[random.Next(seeds.Count)]);
            var outcome = RunOne(input, parse, accepted, perCase, maxAllocatedBytes);
            report.Add(i, input, outcome);
        }
        return report;
    }

    /// <summary>
    /// Runs one input on a worker with a deadline; null when the parser behaved, else what went wrong. Managed
    /// allocations of the worker thread above <paramref name="maxAllocatedBytes"/> count as a finding: a parser
    /// that trusts a length field allocates what the field says, not what the input holds.
    /// </summary>
    public static string? RunOne(byte[] input, Action<byte[]> parse, IReadOnlyCollection<Type> accepted, TimeSpan deadline,
                                 long maxAllocatedBytes = 256L << 20)
    {
        Exception? failure = null;
        long allocated = 0;
        var worker = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try { parse(input); }
            catch (Exception e) { failure = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = "fuzz-case" };
        worker.Start();
        if (!worker.Join(deadline)) return $"hang: no result within {deadline.TotalSeconds:0.##} s";
        if (allocated > maxAllocatedBytes)
            return $"allocated {allocated} bytes for a {input.Length}-byte input (limit {maxAllocatedBytes})" +
                   (failure != null ? $", then threw {failure.GetType().Name}: {failure.Message}" : "");
        if (failure == null) return null;
        if (!accepted.Any(t => t.IsInstanceOfType(failure)))
            return $"unexpected {failure.GetType().FullName}: {failure.Message}\n{failure.StackTrace}";
        if (string.IsNullOrWhiteSpace(failure.Message)) return $"{failure.GetType().Name} without a message";
        return null;
    }
}

/// <summary>Counts of one fuzz run and the first findings (with the offending input, hex-encoded, for reproduction).</summary>
public sealed class FuzzReport
{
    readonly List<string> findings = [];

    public int Cases { get; private set; }
    public int Failures { get; private set; }
    public IReadOnlyList<string> Findings => findings;

    internal void Add(int index, byte[] input, string? outcome)
    {
        Cases++;
        if (outcome == null) return;
        Failures++;
        if (findings.Count < 5)
            findings.Add($"case {index} ({input.Length} bytes): {outcome}\ninput: {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 4096)))}");
    }

    public override string ToString() =>
        Failures == 0 ? $"{Cases} cases, no findings" : $"{Cases} cases, {Failures} findings:\n" + string.Join("\n\n", findings);
}
