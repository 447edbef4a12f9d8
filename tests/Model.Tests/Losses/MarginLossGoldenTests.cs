using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Tests.PartialFC;
using ActorFace.Tests;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Losses;

public class MarginLossGoldenTests
{
    [ReferenceTheory("golden/margin_arcface.json", "golden/margin_cosface.json")]
    [InlineData("margin_arcface.json")]
    [InlineData("margin_cosface.json")]
    public void CombinedMarginMatchesGoldenLogitsLossAndGradient(string file)
    {
        using var scope = NewDisposeScope();
        var g = new GoldenJson(file);
        var margin = new CombinedMarginLoss(g.Number("s"), g.Number("m1"), g.Number("m2"), g.Number("m3"), g.Number("interclass_filtering_threshold"));
        var cos = g.Float("cos").requires_grad_(true);
        var labels = g.Long("labels");

        var logits = margin.forward(cos, labels);
        TensorAssert.Close(g.Float("modified_logits"), logits, 1e-6, 1e-5, $"{file} modified_logits");

        // DistCrossEntropy on one rank, then the straight-through backward through the margin module.
        var buffer = logits.detach().clone();
        var loss = DistributedSoftmaxCrossEntropy.ForwardBackwardInPlace(buffer, labels, new SingleRankCollective());
        Assert.Equal(g.Number("loss_dist"), loss, 1e-4);
        Console.WriteLine($"[golden] {file} loss_dist: |diff| = {Math.Abs(g.Number("loss_dist") - loss):G3}");
        logits.backward(new[] { buffer });
        TensorAssert.Close(g.Float("grad_cos_dist"), cos.grad!, 1e-4, 1e-6, $"{file} grad_cos_dist");
    }

    [Fact]
    public void CrossEntropyCapsRowsWithoutTargetProbability()
    {
        using var scope = NewDisposeScope();
        // Row 0: target probability underflows; row 1: no local target (-1); both contribute -ln(1e-30).
        var logits = tensor(new float[] { 0f, 200f, 1f, 1f }, new long[] { 2, 2 });
        var loss = DistributedSoftmaxCrossEntropy.ForwardBackwardInPlace(logits, tensor(new long[] { 0, -1 }), new SingleRankCollective());
        Assert.Equal(DistributedSoftmaxCrossEntropy.LossCap, loss, 4);
        // Gradient ignores the cap: (softmax - onehot)/N for row 0, softmax/N for the -1 row.
        Assert.Equal(new[] { -0.5f, 0.5f, 0.25f, 0.25f }, logits.data<float>().ToArray());
    }
}
