using System.Collections;
using System.Text;
using Razorvine.Pickle;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>
/// The few numpy pickle globals a verification bin may use (numpy.core.multiarray._reconstruct, numpy.ndarray,
/// numpy.dtype, numpy.core.multiarray.scalar, and their numpy 2 `numpy._core` names), limited to 1-byte dtypes.
/// </summary>
public static class NumpyPickleObjects
{
    public static readonly IReadOnlySet<string> Globals = new HashSet<string>
    {
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray", "numpy.dtype",
    };

    static int registered;

    /// <summary>Registers the constructors with Razorvine (process-wide table, so done once).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        foreach (var module in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
        {
            Unpickler.registerConstructor(module, "_reconstruct", new ArrayConstructor());
            Unpickler.registerConstructor(module, "scalar", new ScalarConstructor());
        }
        Unpickler.registerConstructor("numpy", "ndarray", new ArrayConstructor());
        Unpickler.registerConstructor("numpy", "dtype", new DTypeConstructor());
    }

    sealed class ArrayConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new NumpyArray();
    }

    sealed class DTypeConstructor : IObjectConstructor
    {
        public object construct(object[] args) =>
            args.Length > 0 && args[0] is string s ? new NumpyDType(s) : throw new InvalidDataException("numpy.dtype without a type string");
    }

    sealed class ScalarConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length != 2 || args[0] is not NumpyDType dtype)
                throw new InvalidDataException("numpy scalar pickled without (dtype, data)");
            var raw = NumpyArray.RawBytes(args[1]);
            return dtype.Kind switch
            {
                "b1" when raw.Length == 1 => raw[0] != 0,
                "u1" when raw.Length == 1 => (int)raw[0],
                "i1" when raw.Length == 1 => (int)(sbyte)raw[0],
                _ => throw new InvalidDataException($"unsupported numpy scalar dtype '{dtype.Kind}'"),
            };
        }
    }
}

/// <summary>numpy.dtype as far as a 1-byte array needs it.</summary>
public sealed class NumpyDType(string kind)
{
    public string Kind { get; } = kind.TrimStart('|', '<', '>', '=') is var k && k == "?" ? "b1" : kind.TrimStart('|', '<', '>', '=');

    // BUILD state (version, byteorder, subarray, names, fields, elsize, alignment, flags): nothing to keep for 1-byte types.
    public void __setstate__(object[] state) { }
}

/// <summary>A numpy array restored from `_reconstruct` + BUILD (version, shape, dtype, is_fortran, raw data).</summary>
public sealed class NumpyArray
{
    public int[] Shape { get; private set; } = Array.Empty<int>();
    public NumpyDType? DType { get; private set; }
    public byte[] Data { get; private set; } = Array.Empty<byte>();

    public void __setstate__(object[] state)
    {
        if (state.Length != 5 || state[2] is not NumpyDType dtype)
            throw new InvalidDataException($"numpy array state has {state.Length} fields, expected (version, shape, dtype, fortran, data)");
        if (dtype.Kind is not ("u1" or "i1" or "b1"))
            throw new InvalidDataException($"unsupported numpy array dtype '{dtype.Kind}' (only uint8, int8 and bool arrays are read)");
        Shape = ((IEnumerable)state[1]).Cast<object>().Select(Convert.ToInt32).ToArray();
        DType = dtype;
        Data = RawBytes(state[4]);
        long count = Shape.Aggregate(1L, (a, b) => a * b);
        if (Data.Length != count)
            throw new InvalidDataException($"numpy array of shape ({string.Join(",", Shape)}) holds {Data.Length} bytes");
    }

    internal static byte[] RawBytes(object o) => o switch
    {
        byte[] b => b,
        string s => Encoding.Latin1.GetBytes(s), // Python 2 str read as latin-1 chars
        _ => throw new InvalidDataException($"numpy raw data of unexpected type {o?.GetType().Name ?? "None"}"),
    };
}
