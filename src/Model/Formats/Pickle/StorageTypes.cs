using static TorchSharp.torch;

namespace ActorFace.Model.Formats.Pickle;

/// <summary>The <c>torch.*Storage</c> class names PyTorch pickles for each dtype (legacy typed-storage names).</summary>
public static class StorageTypes
{
    static readonly (string Name, ScalarType Type)[] table =
    [
        ("FloatStorage", ScalarType.Float32), ("DoubleStorage", ScalarType.Float64),
        ("HalfStorage", ScalarType.Float16), ("BFloat16Storage", ScalarType.BFloat16),
        ("LongStorage", ScalarType.Int64), ("IntStorage", ScalarType.Int32),
        ("ShortStorage", ScalarType.Int16), ("CharStorage", ScalarType.Int8),
        ("ByteStorage", ScalarType.Byte), ("BoolStorage", ScalarType.Bool),
    ];

    public static bool TryGetType(string storageName, out ScalarType type)
    {
        foreach (var (n, t) in table)
            if (n == storageName) { type = t; return true; }
        type = default;
        return false;
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var (n, t) in table)
            if (t == type) return n;
        throw new NotSupportedException($"dtype {type} has no PyTorch storage type this writer supports");
    }

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {type} is not supported in weight files"),
    };
}
