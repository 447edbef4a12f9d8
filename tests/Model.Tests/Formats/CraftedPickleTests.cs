using System.Buffers.Binary;
using System.Text;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Formats;

/// <summary>Hand-made state_dict pickles whose tensor geometry would read outside memory or allocate without bound.</summary>
public sealed class CraftedPickleTests
{
    static byte[] Text(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        var r = new byte[5 + b.Length];
        r[0] = (byte)'X';
        BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(1), b.Length);
        b.CopyTo(r, 5);
        return r;
    }

    static byte[] Int(int v)
    {
        var r = new byte[5];
        r[0] = (byte)'J';
        BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(1), v);
        return r;
    }

    static byte[] Tuple(params byte[][] items) => [(byte)'(', .. items.SelectMany(i => i), (byte)'t'];

    /// <summary>{'w': _rebuild_tensor_v2(storage of 1 float, 0, size, stride, False, OrderedDict())}.</summary>
    static byte[] StateDict(int[] size, int[] stride) =>
    [
        0x80, 2, .. "ccollections\nOrderedDict\n"u8, (byte)')', (byte)'R',
        .. Text("w"),
        .. "ctorch._utils\n_rebuild_tensor_v2\n"u8,
        .. Tuple(
            [.. Tuple(Text("storage"), [.. "ctorch\nFloatStorage\n"u8], Text("0"), Text("cpu"), Int(1)), (byte)'Q'],
            Int(0),
            Tuple(size.Select(Int).ToArray()),
            Tuple(stride.Select(Int).ToArray()),
            [0x89],
            [.. "ccollections\nOrderedDict\n"u8, (byte)')', (byte)'R']),
        (byte)'R', (byte)'s', (byte)'.',
    ];

    static byte[] OneFloat(string key, ScalarType dtype, long numel) =>
        numel == 1 ? new byte[4] : throw new InvalidDataException("unexpected storage size");

    [Fact]
    public void WellFormedCraftedPickleLoads()
    {
        var entries = RestrictedUnpickler.LoadStateDict(StateDict([1], [1]), "ok.pkl", OneFloat);
        Assert.Equal("w", Assert.Single(entries).Key);
        entries[0].Value.Dispose();
    }

    [Fact]
    public void ViewLargerThanItsStorageIsRefusedBeforeAllocating()
    {
        // stride 0 keeps every index inside the 1-element storage, but clone() would allocate 2^62 floats
        var e = Assert.Throws<InvalidDataException>(() =>
            RestrictedUnpickler.LoadStateDict(StateDict([int.MaxValue, int.MaxValue], [0, 0]), "expand.pkl", OneFloat));
        Assert.Contains("more than its 1-element storage", e.Message);
    }

    [Fact]
    public void StridesThatOverflowTheBoundsCheckAreRefused()
    {
        // (size-1)*stride summed over three dims wraps to a negative "last element" in unchecked 64-bit arithmetic
        var e = Assert.Throws<InvalidDataException>(() =>
            RestrictedUnpickler.LoadStateDict(StateDict([int.MaxValue, int.MaxValue, int.MaxValue], [int.MaxValue, int.MaxValue, int.MaxValue]),
                "overflow.pkl", OneFloat));
        Assert.Contains("overflows 64 bits", e.Message);
    }
}
