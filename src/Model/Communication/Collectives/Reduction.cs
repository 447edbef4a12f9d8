using System.Numerics;
using ActorFace.Model.Runtime;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// dst = a ⊕ b over raw element buffers (dst may be exactly a or b). Vectorised: float32/float64/int32/int64 through
/// TensorPrimitives; float16 and bfloat16 are widened to float32 in small stack blocks, combined, and rounded back
/// once (round-to-nearest-even), which is what torch does for a half-precision add.
/// </summary>
internal static unsafe class Reduction
{
    const int Block = 2048;

    public static void Check(ScalarType type, ReduceOp op)
    {
        switch (type)
        {
            case ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16
                or ScalarType.Int32 or ScalarType.Int64:
                return;
            default:
                throw new NotSupportedException($"{op} reduction is not supported for dtype {type} " +
                                                "(supported: float32, float64, float16, bfloat16, int32, int64)");
        }
    }

    /// <summary>dst = a ⊕ b for contiguous CPU tensors of one dtype and element count.</summary>
    public static void Apply(ReduceOp op, Tensor a, Tensor b, Tensor dst)
    {
        if (a.dtype != b.dtype || a.dtype != dst.dtype || a.numel() != b.numel() || a.numel() != dst.numel())
            throw new ArgumentException($"reduction operands differ: {TensorMemory.Describe(a)}, {TensorMemory.Describe(b)}, {TensorMemory.Describe(dst)}");
        Check(a.dtype, op);
        Apply(a.dtype, op, TensorMemory.Bytes(a), TensorMemory.Bytes(b), TensorMemory.Bytes(dst), a.numel());
    }

    public static void Apply(ScalarType type, ReduceOp op, byte* a, byte* b, byte* dst, long count)
    {
        // Spans are int-indexed; collectives can exceed 2^31 elements, so walk in int-sized slices.
        const long slice = 1L << 28;
        int size = TensorMemory.ElementSize(type);
        for (long done = 0; done < count; done += slice)
        {
            int n = (int)Math.Min(slice, count - done);
            long off = done * size;
            ApplySlice(type, op, a + off, b + off, dst + off, n);
        }
    }

    static void ApplySlice(ScalarType type, ReduceOp op, byte* a, byte* b, byte* dst, int n)
    {
        switch (type)
        {
            case ScalarType.Float32: Generic<float>(op, a, b, dst, n); break;
            case ScalarType.Float64: Generic<double>(op, a, b, dst, n); break;
            case ScalarType.Int32: Generic<int>(op, a, b, dst, n); break;
            case ScalarType.Int64: Generic<long>(op, a, b, dst, n); break;
            case ScalarType.Float16: HalfPrecision(op, (Half*)a, (Half*)b, (Half*)dst, n); break;
            case ScalarType.BFloat16: BFloat16(op, (ushort*)a, (ushort*)b, (ushort*)dst, n); break;
            default: Check(type, op); break;
        }
    }

    static void Generic<T>(ReduceOp op, byte* a, byte* b, byte* dst, int n) where T : unmanaged, INumber<T>
    {
        var x = new ReadOnlySpan<T>(a, n);
        var y = new ReadOnlySpan<T>(b, n);
        var d = new Span<T>(dst, n);
        if (op == ReduceOp.Sum) TensorPrimitives.Add(x, y, d);
        else TensorPrimitives.Max(x, y, d);
    }

    static void Combine(ReduceOp op, Span<float> x, ReadOnlySpan<float> y)
    {
        if (op == ReduceOp.Sum) TensorPrimitives.Add(x, y, x);
        else TensorPrimitives.Max(x, y, x);
    }

    static void HalfPrecision(ReduceOp op, Half* a, Half* b, Half* dst, int n) =>
        InFloat32(op, a, b, dst, n, &TensorPrimitives.ConvertToSingle, &TensorPrimitives.ConvertToHalf);

    static void BFloat16(ReduceOp op, ushort* a, ushort* b, ushort* dst, int n) =>
        InFloat32(op, a, b, dst, n, &WidenBFloat16, &NarrowToBFloat16);

    /// <summary>Block by block: both operands widened to float32, combined, the result rounded back.</summary>
    static void InFloat32<T>(ReduceOp op, T* a, T* b, T* dst, int n,
        delegate*<ReadOnlySpan<T>, Span<float>, void> widen, delegate*<ReadOnlySpan<float>, Span<T>, void> narrow)
        where T : unmanaged
    {
        Span<float> x = stackalloc float[Block];
        Span<float> y = stackalloc float[Block];
        for (int i = 0; i < n; i += Block)
        {
            int m = Math.Min(Block, n - i);
            var xs = x[..m];
            var ys = y[..m];
            widen(new ReadOnlySpan<T>(a + i, m), xs);
            widen(new ReadOnlySpan<T>(b + i, m), ys);
            Combine(op, xs, ys);
            narrow(xs, new Span<T>(dst + i, m));
        }
    }

    /// <summary>bfloat16 is the top half of a float32: shift the bits up by 16.</summary>
    internal static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var src = MemoryMarshal.Cast<ushort, Vector<ushort>>(source);
            var dst = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            for (int v = 0; v < src.Length; v++)
            {
                Vector.Widen(src[v], out var lo, out var hi);
                dst[2 * v] = lo << 16;
                dst[2 * v + 1] = hi << 16;
            }
            i = src.Length * Vector<ushort>.Count;
        }
        for (; i < source.Length; i++) bits[i] = (uint)source[i] << 16;
    }

    /// <summary>Round-to-nearest-even to bfloat16; NaN stays a quiet NaN (as torch does).</summary>
    internal static void NarrowToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(source);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var src = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            var dst = MemoryMarshal.Cast<ushort, Vector<ushort>>(destination);
            var bias = new Vector<uint>(0x7FFFu);
            var one = Vector<uint>.One;
            var nan = new Vector<uint>(0x7FC00000u);
            for (int v = 0; v < dst.Length; v++)
            {
                var lo = Round(src[2 * v], bias, one, nan);
                var hi = Round(src[2 * v + 1], bias, one, nan);
                dst[v] = Vector.Narrow(lo, hi);
            }
            i = dst.Length * Vector<ushort>.Count;
        }
        for (; i < source.Length; i++) destination[i] = RoundScalar(bits[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<uint> Round(Vector<uint> x, Vector<uint> bias, Vector<uint> one, Vector<uint> nan)
    {
        var isNan = Vector.GreaterThan(x & new Vector<uint>(0x7FFFFFFFu), new Vector<uint>(0x7F800000u));
        var rounded = (x + bias + ((x >> 16) & one)) >> 16;
        return Vector.ConditionalSelect(isNan, nan >> 16, rounded);
    }

    static ushort RoundScalar(uint x)
    {
        if ((x & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }
}
