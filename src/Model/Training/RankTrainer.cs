using System.Diagnostics;
using ActorFace.Model.PartialFC;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.Training;

/// <summary>
/// One rank's training iteration of arcface_torch (spec §5.3): backbone forward → Partial FC forward/backward →
/// backbone backward with the returned embedding gradient → bucketed all-reduce average of backbone gradients →
/// (every gradient_acc iterations) clip 5 on the backbone, optimiser step of backbone and shard, zero grads →
/// LR schedule step (every iteration). All ranks must call <see cref="Step"/> in lock step.
/// </summary>
public sealed partial class RankTrainer : IDisposable
{
    readonly nn.Module<Tensor, Tensor> backbone;
    readonly PartialFCShard partialFC;
    readonly ICollective collective;
    readonly RankTrainerOptions options;
    /// <summary>Trainable backbone parameters in module order (float32 masters in bf16 mode).</summary>
    readonly List<Tensor> trainable;
    /// <summary>The module's own parameters matching <see cref="trainable"/> (same objects unless bf16).</summary>
    readonly List<Tensor> moduleParams;

    public long GlobalStep { get; private set; }
    public PolynomialLRWarmup Scheduler { get; }
    public ParameterOptimizer Optimizer { get; }
    public PartialFCShard PartialFC => partialFC;
    /// <summary>The fp16 loss scaler (null unless <see cref="RankTrainerOptions.LossScaling"/> is set).</summary>
    public GradScaler? Scaler { get; }
    public RankTrainerOptions Options => options;

    /// <summary>
    /// Takes over <paramref name="backbone"/> (float32, on the target device): broadcasts rank 0's parameters and floating
    /// buffers to every rank (a collective: all ranks construct together), then, with Bf16, casts it to bfloat16 and
    /// keeps float32 masters.
    /// </summary>
    public RankTrainer(nn.Module<Tensor, Tensor> backbone, PartialFCShard partialFC, ICollective collective, RankTrainerOptions options)
    {
        options.Validate();
        if (partialFC.Options.Optimizer != options.Optimizer || partialFC.Options.WeightDecay != options.WeightDecay ||
            (options.Optimizer == OptimizerKind.Sgd && partialFC.Options.Momentum != options.Momentum))
            throw new ArgumentException(
                $"Partial FC optimiser ({partialFC.Options.Optimizer}, wd {partialFC.Options.WeightDecay}, momentum {partialFC.Options.Momentum}) " +
                $"must match the trainer's ({options.Optimizer}, wd {options.WeightDecay}, momentum {options.Momentum}): arcface_torch uses one optimiser for both groups");
        if (collective.Rank != partialFC.Layout.Rank || collective.WorldSize != partialFC.Layout.WorldSize)
            throw new ArgumentException($"collective rank {collective.Rank}/{collective.WorldSize} does not match the Partial FC shard {partialFC.Layout.Rank}/{partialFC.Layout.WorldSize}");
        (this.backbone, this.partialFC, this.collective, this.options) = (backbone, partialFC, collective, options);

        using (torch.no_grad())
        {
            foreach (var p in backbone.parameters()) collective.Broadcast(p, 0);
            foreach (var b in backbone.buffers().Where(b => b.is_floating_point())) collective.Broadcast(b, 0);
        }
        moduleParams = backbone.parameters().Where(p => p.requires_grad).Select(p => (Tensor)p).ToList();
        if (options.Bf16)
        {
            trainable = moduleParams.Select(p => p.detach().to_type(ScalarType.Float32).clone().requires_grad_(true).DetachFromDisposeScope()).ToList();
            foreach (var m in trainable) m.grad = torch.zeros_like(m).DetachFromDisposeScope();
            backbone.to(ScalarType.BFloat16);
            moduleParams = backbone.parameters().Where(p => p.requires_grad).Select(p => (Tensor)p).ToList();
        }
        else trainable = moduleParams;

        Optimizer = ParameterOptimizer.Create(options.Optimizer, trainable, options.WeightDecay, options.Momentum);
        Scheduler = new PolynomialLRWarmup(options.Lr, options.WarmupSteps, options.TotalSteps, options.LrPower);
        if (options.LossScaling is { } scaling) Scaler = new GradScaler(scaling);
    }

    /// <summary>One iteration on this rank's batch: images [B,3,H,W] float32, labels [B] integer (global class ids).</summary>
    public StepResult Step(Tensor images, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        GlobalStep++;
        var lr = Scheduler.LastLr;
        var clock = Stopwatch.StartNew();
        TimeSpan Lap() { var t = clock.Elapsed; clock.Restart(); return t; }

        backbone.train();
        var input = options.Bf16 ? images.to_type(ScalarType.BFloat16) : images;
        var raw = backbone.forward(input);
        var embeddings = options.Bf16 ? raw.to_type(ScalarType.Float32) : raw;
        var forward = Lap();

        using var pfc = partialFC.ForwardBackward(embeddings, labels, collective, Scaler?.Scale ?? 1.0);
        var pfcTime = Lap();
        if (!float.IsFinite(pfc.Loss)) return SkipNonFiniteStep(pfc.Loss, lr, forward, pfcTime);

        embeddings.backward(new[] { pfc.EmbeddingGrad });
        if (options.Bf16) MoveGradsToMasters();
        var backward = Lap();

        // Like DDP, every backward is all-reduced, also on accumulation-only iterations.
        GradientSync.AllReduceAverage(trainable, collective, options.Compression, options.BucketBytes);
        var allReduce = Lap();

        var stepped = GlobalStep % options.GradientAcc == 0;
        var norm = double.NaN;
        var overflow = false;
        if (stepped)
        {
            // GradScaler: unscale both groups before clipping; an inf/NaN anywhere skips both optimiser steps.
            overflow = Scaler?.UnscaleAndCheck(trainable.Where(p => p.grad is not null).Select(p => p.grad!)
                .Concat(partialFC.PendingGradients()), collective) ?? false;
            norm = GradientSync.ClipGradNorm(trainable, options.ClipNorm);
            if (!overflow)
            {
                Optimizer.Step(lr);
                partialFC.Step(lr);
            }
            Scaler?.Update(overflow);
            Optimizer.ZeroGrad();
            partialFC.ZeroGrad();
            if (options.Bf16) CopyMastersToModule();
        }
        Scheduler.Step();
        var optimizer = Lap();
        return new StepResult(GlobalStep, pfc.Loss, lr, Scheduler.LastLr, norm, stepped, new StepTimings(forward, pfcTime, backward, allReduce, optimizer))
            { LossScale = Scaler?.Scale ?? double.NaN, SkippedByScaler = overflow };
    }

    void MoveGradsToMasters()
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < trainable.Count; i++)
        {
            var g = moduleParams[i].grad;
            if (g is null) continue;
            trainable[i].grad!.add_(g.to_type(ScalarType.Float32));
            g.zero_();
        }
    }

    void CopyMastersToModule()
    {
        using var noGrad = torch.no_grad();
        for (var i = 0; i < trainable.Count; i++) moduleParams[i].copy_(trainable[i]);
    }

    /// <summary>The float32 values of the trainable backbone parameters in module order (the masters in bf16 mode).</summary>
    public IReadOnlyList<Tensor> TrainableParameters => trainable;

    public void Dispose()
    {
        Optimizer.Dispose();
        if (options.Bf16) foreach (var m in trainable) m.Dispose();
    }
}
