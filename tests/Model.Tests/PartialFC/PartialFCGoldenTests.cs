using ActorFace.Model.Losses;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using ActorFace.Tests;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

public class PartialFCGoldenTests
{
    static PartialFCShard Shard(GoldenJson g, ISampleRandom? random = null)
    {
        var margin = new CombinedMarginLoss(g.Number("margin.s"), g.Number("margin.m1"), g.Number("margin.m2"), g.Number("margin.m3"));
        var layout = new ShardLayout((long)g.Number("num_classes"), 1, 0);
        var options = new PartialFCOptions(SampleRate: g.Number("sample_rate"), Momentum: 0.9, WeightDecay: 5e-4);
        return new PartialFCShard(layout, (int)g.Number("embedding_size"), margin, options, random, g.Float("weight"));
    }

    [ReferenceFact("golden/pfc_sr1.json")]
    public void SampleRateOneMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var g = new GoldenJson("pfc_sr1.json");
        using var shard = Shard(g);
        using var result = shard.ForwardBackward(g.Float("embeddings"), g.Long("labels"), new SingleRankCollective());
        Assert.Equal(g.Number("loss"), result.Loss, 1e-4);
        Console.WriteLine($"[golden] pfc_sr1 loss: |diff| = {Math.Abs(g.Number("loss") - result.Loss):G3}");
        Assert.Equal(50, result.NumColumns);
        TensorAssert.Close(g.Float("grad_embeddings"), result.EmbeddingGrad, 1e-4, 1e-6, "pfc_sr1 grad_embeddings");
        TensorAssert.Close(g.Float("grad_weight"), shard.CentreGradient()!, 1e-4, 1e-3, "pfc_sr1 grad_weight");
        shard.Step(0.1);
        TensorAssert.Close(g.Float("weight_after_1_sgd_step"), shard.Weight, 1e-5, 1e-4, "pfc_sr1 weight_after_1_sgd_step");
    }

    [ReferenceFact("golden/pfc_sr05.json")]
    public void SampleRateHalfWithRecordedRandomValuesMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var g = new GoldenJson("pfc_sr05.json");
        var draws = g.Flat("rand_perm_values", out _).Select(x => (float)x).ToArray();
        using var shard = Shard(g, new ReplaySampleRandom(draws));
        Assert.Equal((long)g.Number("num_sample"), shard.NumSample);
        using var result = shard.ForwardBackward(g.Float("embeddings"), g.Long("labels"), new SingleRankCollective());
        Assert.Equal(g.Long("sampled_index").data<long>().ToArray(), shard.LastIndex!.data<long>().ToArray());
        Assert.Equal(25, result.NumColumns);
        Assert.Equal(g.Number("loss"), result.Loss, 1e-4);
        Console.WriteLine($"[golden] pfc_sr05 loss: |diff| = {Math.Abs(g.Number("loss") - result.Loss):G3}");
        TensorAssert.Close(g.Float("grad_embeddings"), result.EmbeddingGrad, 1e-4, 1e-6, "pfc_sr05 grad_embeddings");
        TensorAssert.Close(g.Float("grad_weight"), shard.CentreGradient()!, 1e-4, 1e-3, "pfc_sr05 grad_weight");
        shard.Step(0.1);
        shard.Synchronize(); // the unsampled rows' weight decay and momentum are deferred until read
        TensorAssert.Close(g.Float("weight_after_1_sgd_step"), shard.Weight, 1e-5, 1e-4, "pfc_sr05 weight_after_1_sgd_step");
    }

    [ReferenceFact("golden/pfc_sr05.json")]
    public void SamplerRemapsLabelsToPositionsInTheSampledSet()
    {
        using var scope = NewDisposeScope();
        var g = new GoldenJson("pfc_sr05.json");
        var draws = g.Flat("rand_perm_values", out _).Select(x => (float)x).ToArray();
        var labels = g.Long("labels");
        var index = ClassSampler.Sample(labels, 50, 25, new ReplaySampleRandom(draws));
        Assert.Equal(g.Long("sampled_index").data<long>().ToArray(), index.data<long>().ToArray());
        Assert.Equal(g.Long("remapped_labels").data<long>().ToArray(), labels.data<long>().ToArray());
    }

    [ReferenceFact("golden/pfc_sr05.json")]
    public void TorchGeneratorReproducesTheReferenceDraws()
    {
        // Same libtorch CPU generator as torch.manual_seed(seed); torch.rand(50).
        using var scope = NewDisposeScope();
        var g = new GoldenJson("pfc_sr05.json");
        using var random = new TorchSampleRandom((long)g.Number("seed"));
        TensorAssert.Close(g.Float("rand_perm_values"), random.Uniform(50), 0, 1e-7, "pfc_sr05 rand_perm_values (seeded generator)");
    }
}
