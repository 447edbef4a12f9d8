using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Communication.Collectives;

/// <summary>The raw-buffer reductions must round exactly as torch does when it adds two half-precision tensors.</summary>
public class ReductionTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16, ReduceOp.Sum)]
    [InlineData(ScalarType.BFloat16, ReduceOp.Max)]
    [InlineData(ScalarType.Float16, ReduceOp.Sum)]
    [InlineData(ScalarType.Float16, ReduceOp.Max)]
    [InlineData(ScalarType.Float32, ReduceOp.Sum)]
    [InlineData(ScalarType.Int64, ReduceOp.Max)]
    public void MatchesTorchBitForBit(ScalarType type, ReduceOp op)
    {
        torch.manual_seed(3);
        // 5000 elements: several conversion blocks plus a vector tail; values spread over many exponents.
        var a = (torch.randn(5000) * torch.exp(torch.randn(5000) * 3)).to(type);
        var b = (torch.randn(5000) * torch.exp(torch.randn(5000) * 3)).to(type);
        if (type != ScalarType.Int64) { a[7] = float.NaN; b[11] = float.PositiveInfinity; }
        var expected = (op == ReduceOp.Sum ? a.to(ScalarType.Float32) + b.to(ScalarType.Float32)
                                           : torch.maximum(a.to(ScalarType.Float32), b.to(ScalarType.Float32))).to(type);
        if (type == ScalarType.Int64) expected = torch.maximum(a, b);
        var dst = torch.empty_like(a);
        Reduction.Apply(op, a, b, dst);
        Assert.True(expected.view(-1).eq(dst.view(-1)).logical_or(expected.isnan().logical_and(dst.isnan())).all().item<bool>(),
            $"{type} {op} differs from torch");
    }
}
