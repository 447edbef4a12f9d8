using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Tests;

/// <summary>
/// One Partial FC step on a fixed problem (global batch N = 12, D = 8, C = 13 classes, ArcFace s = 64, m = 0.5),
/// split over W ranks. Shared by the equivalence tests and tests/CollectivePeer so that every process builds the
/// same tensors. Sample rate 1: every class is used, so the result must not depend on W.
/// </summary>
public static class PartialFCProblem
{
    public const int N = 12, D = 8, C = 13;

    public sealed record RankResult(float Loss, Tensor EmbeddingGrad, Tensor WeightGrad);

    public static (Tensor Embeddings, Tensor Labels, Tensor Weight) Create()
    {
        var g = new Generator(11);
        var e = torch.randn(new long[] { N, D }, generator: g);
        var w = torch.randn(new long[] { C, D }, generator: g).mul_(0.1);
        var labels = torch.randint(0, C, new long[] { N }, generator: g);
        return (e, labels, w);
    }

    public static RankResult Run(ICollective collective)
    {
        var (e, labels, w) = Create();
        long b = N / collective.WorldSize;
        var layout = new ShardLayout(C, collective.WorldSize, collective.Rank);
        var margin = new CombinedMarginLoss(64, 1.0, 0.5, 0.0);
        using var shard = new PartialFCShard(layout, D, margin, new PartialFCOptions(),
            initialWeight: w.narrow(0, layout.ClassStart, layout.NumLocal));
        using var r = shard.ForwardBackward(e.narrow(0, collective.Rank * b, b), labels.narrow(0, collective.Rank * b, b), collective);
        return new RankResult(r.Loss, r.EmbeddingGrad.detach().clone(), shard.CentreGradient()!.detach().clone());
    }

    public static void WriteFloats(string path, Tensor t) =>
        File.WriteAllBytes(path, t.contiguous().to(ScalarType.Float32).data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());

    public static Tensor ReadFloats(string path, params long[] shape)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return torch.tensor(values).reshape(shape);
    }
}
