using System.Globalization;

namespace ActorFace.Host.Configuration.ArcfaceTorch;

/// <summary>Python's None.</summary>
internal sealed class PyNone
{
    public static readonly PyNone Value = new();
    private PyNone() { }
    public override string ToString() => "None";
}

/// <summary>A Python list or tuple of evaluated values.</summary>
internal sealed record PySequence(IReadOnlyList<object> Items, bool IsTuple);

/// <summary>How values read from a config are shown in messages: Python's repr.</summary>
internal static class PyRepr
{
    public static string Of(object value) => value switch
    {
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        string s => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'",
        PySequence { IsTuple: true, Items.Count: 1 } t => "(" + Of(t.Items[0]) + ",)",
        PySequence { IsTuple: true } t => "(" + string.Join(", ", t.Items.Select(Of)) + ")",
        PySequence l => "[" + string.Join(", ", l.Items.Select(Of)) + "]",
        _ => value.ToString() ?? "",
    };

    public static string TypeName(object value) => value switch
    {
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PySequence { IsTuple: true } => "tuple",
        PySequence => "list",
        PyNone => "NoneType",
        _ => value.GetType().Name,
    };

    /// <summary>Python's float repr: shortest round-trip digits, always with a '.' or an exponent.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }
}
