using System.Buffers.Binary;
using System.Text;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// Walks every opcode of a pickle before anything is unpickled and refuses any global (GLOBAL, INST, STACK_GLOBAL)
/// outside an allow-list, persistent ids, extension codes and out-of-band buffers. Razorvine.Pickle would
/// otherwise turn unknown globals into ClassDict objects; this makes "only numpy arrays, bytes and bools"
/// an enforced property instead of a convention.
/// </summary>
public static class PickleGuard
{
    enum Arg { None, Byte1, Byte2, Byte4, Byte8, Line, TwoLines, Len1, Len4, Len8 }

    static readonly Dictionary<byte, Arg> Args = BuildTable();

    static readonly HashSet<byte> StringPushes = new()
    {
        (byte)'S', (byte)'V', (byte)'T', (byte)'U', (byte)'X', 0x8c, 0x8d,
    };

    static readonly HashSet<byte> Gets = new() { (byte)'g', (byte)'h', (byte)'j' };
    static readonly HashSet<byte> Puts = new() { (byte)'p', (byte)'q', (byte)'r', 0x94 };

    /// <summary>Throws <see cref="InvalidDataException"/> (not a pickle / truncated) or
    /// <see cref="UnsafePickleException"/> (an IOException: refused global), both naming <paramref name="what"/>.</summary>
    public static void Check(ReadOnlySpan<byte> data, IReadOnlySet<string> allowedGlobals, string what)
    {
        if (data.Length == 0) throw new InvalidDataException($"{what}: not a valid pickle (empty file)");
        // Recent stack pushes that are known strings (null = some other value), for STACK_GLOBAL operands.
        var recent = new List<string?>();
        var memo = new Dictionary<long, string?>();
        int pos = 0;
        bool first = true;
        while (true)
        {
            if (pos >= data.Length) throw new InvalidDataException($"{what}: not a valid pickle (truncated: no STOP opcode)");
            byte op = data[pos];
            int at = pos++;
            if (!Args.TryGetValue(op, out var kind))
                throw new InvalidDataException(first
                    ? $"{what}: not a valid pickle (first byte 0x{op:x2} is no pickle opcode)"
                    : $"{what}: not a valid pickle (invalid opcode 0x{op:x2} at byte {at})");
            first = false;
            string? pushedString = null;
            string[] lines = Array.Empty<string>();
            switch (kind)
            {
                case Arg.None: break;
                case Arg.Byte1: Need(data, pos, 1, what); pos += 1; break;
                case Arg.Byte2: Need(data, pos, 2, what); pos += 2; break;
                case Arg.Byte4: Need(data, pos, 4, what); pos += 4; break;
                case Arg.Byte8: Need(data, pos, 8, what); pos += 8; break;
                case Arg.Line: lines = new[] { ReadLine(data, ref pos, what) }; break;
                case Arg.TwoLines: lines = new[] { ReadLine(data, ref pos, what), ReadLine(data, ref pos, what) }; break;
                case Arg.Len1:
                    Need(data, pos, 1, what);
                    pushedString = Payload(data, ref pos, data[pos], 1, op, what);
                    break;
                case Arg.Len4:
                    Need(data, pos, 4, what);
                    pushedString = Payload(data, ref pos, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), 4, op, what);
                    break;
                case Arg.Len8:
                    Need(data, pos, 8, what);
                    pushedString = Payload(data, ref pos, BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]), 8, op, what);
                    break;
            }
            if (kind == Arg.Line && (op == (byte)'S' || op == (byte)'V')) pushedString = lines[0].Trim('\'', '"');

            switch (op)
            {
                case (byte)'.': return;
                case (byte)'c' or (byte)'i':
                    Allow($"{lines[0]}.{lines[1]}", allowedGlobals, what, at);
                    recent.Add(null);
                    break;
                case 0x93: // STACK_GLOBAL: the two operands must be provably constant strings
                    if (recent.Count < 2 || recent[^1] is null || recent[^2] is null)
                        throw new UnsafePickleException($"{what}: refused STACK_GLOBAL at byte {at} whose module/name are not constant strings");
                    Allow($"{recent[^2]}.{recent[^1]}", allowedGlobals, what, at);
                    recent.Add(null);
                    break;
                case (byte)'P' or (byte)'Q':
                    throw new UnsafePickleException($"{what}: refused persistent id at byte {at}");
                case 0x82 or 0x83 or 0x84:
                    throw new UnsafePickleException($"{what}: refused extension code at byte {at}");
                case 0x97:
                    throw new UnsafePickleException($"{what}: refused out-of-band buffer at byte {at}");
                case 0x80 or 0x95: break; // PROTO, FRAME: no stack effect
                default:
                    if (Puts.Contains(op))
                    {
                        long key = op switch
                        {
                            (byte)'q' => data[at + 1],
                            (byte)'r' => BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 1)..]),
                            (byte)'p' => long.TryParse(lines[0], out var k) ? k : -1,
                            _ => memo.Count,
                        };
                        memo[key] = recent.Count > 0 ? recent[^1] : null;
                    }
                    else if (Gets.Contains(op))
                    {
                        long key = op switch
                        {
                            (byte)'h' => data[at + 1],
                            (byte)'j' => BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 1)..]),
                            _ => long.TryParse(lines[0], out var k) ? k : -1,
                        };
                        recent.Add(memo.GetValueOrDefault(key));
                    }
                    else recent.Add(StringPushes.Contains(op) ? pushedString : null);
                    break;
            }
        }
    }

    static void Allow(string global, IReadOnlySet<string> allowed, string what, int at)
    {
        if (!allowed.Contains(global))
            throw new UnsafePickleException(
                $"{what}: refused to unpickle global '{global}' at byte {at}; only {string.Join(", ", allowed.Order())} are allowed");
    }

    static string? Payload(ReadOnlySpan<byte> data, ref int pos, ulong length, int lengthBytes, byte op, string what)
    {
        pos += lengthBytes;
        if (length > (ulong)(data.Length - pos))
            throw new InvalidDataException($"{what}: not a valid pickle (truncated: opcode 0x{op:x2} wants {length} bytes at byte {pos})");
        int n = (int)length;
        string? s = StringPushes.Contains(op)
            ? (op is (byte)'T' or (byte)'U' ? Encoding.Latin1.GetString(data.Slice(pos, n)) : Encoding.UTF8.GetString(data.Slice(pos, n)))
            : null;
        pos += n;
        return s;
    }

    static void Need(ReadOnlySpan<byte> data, int pos, int n, string what)
    {
        if (pos + n > data.Length) throw new InvalidDataException($"{what}: not a valid pickle (truncated at byte {pos})");
    }

    static string ReadLine(ReadOnlySpan<byte> data, ref int pos, string what)
    {
        int nl = data[pos..].IndexOf((byte)'\n');
        if (nl < 0) throw new InvalidDataException($"{what}: not a valid pickle (unterminated line at byte {pos})");
        var s = Encoding.UTF8.GetString(data.Slice(pos, nl));
        pos += nl + 1;
        return s;
    }

    static Dictionary<byte, Arg> BuildTable()
    {
        var t = new Dictionary<byte, Arg>();
        foreach (var c in "(.012NRabd}eltlo])su") t[(byte)c] = Arg.None;
        foreach (byte b in new byte[] { 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98, (byte)'Q' })
            t[b] = Arg.None;
        foreach (byte b in new byte[] { 0x80, (byte)'K', (byte)'h', (byte)'q', 0x82 }) t[b] = Arg.Byte1;
        foreach (byte b in new byte[] { (byte)'M', 0x83 }) t[b] = Arg.Byte2;
        foreach (byte b in new byte[] { (byte)'J', (byte)'j', (byte)'r', 0x84 }) t[b] = Arg.Byte4;
        foreach (byte b in new byte[] { (byte)'G', 0x95 }) t[b] = Arg.Byte8;
        foreach (var c in "ILFSVgpP") t[(byte)c] = Arg.Line;
        foreach (var c in "ci") t[(byte)c] = Arg.TwoLines;
        foreach (byte b in new byte[] { (byte)'U', (byte)'C', 0x8c, 0x8a }) t[b] = Arg.Len1;
        foreach (byte b in new byte[] { (byte)'T', (byte)'X', (byte)'B', 0x8b }) t[b] = Arg.Len4;
        foreach (byte b in new byte[] { 0x8d, 0x8e, 0x96 }) t[b] = Arg.Len8;
        return t;
    }
}

/// <summary>A pickle asked for something this loader never constructs (e.g. os.system).</summary>
public sealed class UnsafePickleException(string message) : IOException(message);
