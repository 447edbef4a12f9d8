using System.Text;

namespace ActorFace.Model.Tests.Evaluation;

/// <summary>Writes raw pickle opcodes, to craft bins the way Python 2/3 and numpy would (and malicious ones).</summary>
internal sealed class PickleBuilder
{
    readonly MemoryStream s = new();

    public PickleBuilder Op(params byte[] bytes) { s.Write(bytes); return this; }
    public PickleBuilder Op(char c) => Op((byte)c);
    public PickleBuilder Proto(int p) => Op(0x80, (byte)p);
    public PickleBuilder Global(string module, string name) => Op('c').Text(module + "\n" + name + "\n");
    public PickleBuilder Text(string t) => Op(Encoding.UTF8.GetBytes(t));
    public PickleBuilder Int(int v) => v is >= 0 and < 256 ? Op((byte)'K', (byte)v) : Op((byte)'J').Op(BitConverter.GetBytes(v));
    public PickleBuilder ShortUnicode(string t) { var b = Encoding.UTF8.GetBytes(t); return Op(0x8c, (byte)b.Length).Op(b); }
    /// <summary>Python 2 str (SHORT_BINSTRING / BINSTRING).</summary>
    public PickleBuilder Py2Str(byte[] b) => b.Length < 256 ? Op((byte)'U', (byte)b.Length).Op(b) : Op((byte)'T').Op(BitConverter.GetBytes(b.Length)).Op(b);
    /// <summary>Python 3 bytes (SHORT_BINBYTES / BINBYTES).</summary>
    public PickleBuilder Bytes(byte[] b) => b.Length < 256 ? Op((byte)'C', (byte)b.Length).Op(b) : Op((byte)'B').Op(BitConverter.GetBytes(b.Length)).Op(b);
    public PickleBuilder Bool(bool v) => Op(v ? (byte)0x88 : (byte)0x89);

    /// <summary>numpy.dtype(code) with its BUILD state, as numpy pickles it.</summary>
    public PickleBuilder DType(string code, bool py2)
    {
        Global("numpy", "dtype");
        Str(code, py2).Int(0).Int(1).Op(0x87).Op('R');
        Op('(').Int(3); Str("|", py2).Op('N', 'N', 'N').Int(-1).Int(-1).Int(0).Op('t').Op('b');
        return this;
    }

    /// <summary>A Python str: Py2 byte string or Py3 unicode.</summary>
    public PickleBuilder Str(string t, bool py2) => py2 ? Py2Str(Encoding.ASCII.GetBytes(t)) : ShortUnicode(t);

    /// <summary>Raw bytes: Py2 str or Py3 bytes.</summary>
    public PickleBuilder Raw(byte[] b, bool py2) => py2 ? Py2Str(b) : Bytes(b);

    /// <summary>numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD (1, shape, dtype, False, raw).</summary>
    public PickleBuilder NdArray(int[] shape, string dtype, byte[] raw, bool py2)
    {
        Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Op(0x85);
        Raw("b"u8.ToArray(), py2).Op(0x87).Op('R');
        Op('(').Int(1).Op('(');
        foreach (var d in shape) Int(d);
        Op('t');
        DType(dtype, py2);
        Bool(false);
        Raw(raw, py2).Op('t').Op('b');
        return this;
    }

    public PickleBuilder Op(params char[] cs) { foreach (var c in cs) Op((byte)c); return this; }

    public byte[] ToArray() => s.ToArray();
}
