using static TorchSharp.torch;

namespace ActorFace.Model.Training;

public sealed partial class RankTrainer
{
    /// <summary>
    /// A step whose loss is NaN or infinite changes no weight: its gradients would be garbage. The loss is the global
    /// mean (the distributed cross-entropy all-reduces it), so every rank sees the same non-finite value and skips
    /// together: no backward, no gradient all-reduce, no optimiser step, and the collectives stay in lock step.
    /// Gradients accumulated so far (gradient_acc > 1) are dropped with it. The step still counts (its batch is
    /// consumed and the LR schedule advances), so the data position and schedule stay those of the step number.
    /// Whoever drives the trainer counts these (Actors' NonFiniteLossGuard) and rolls back when they persist.
    /// With fp16 the loss scale backs off as PyTorch's GradScaler does when the gradients of such a step overflow.
    /// </summary>
    StepResult SkipNonFiniteStep(float loss, double lr, TimeSpan forward, TimeSpan partialFCTime)
    {
        Optimizer.ZeroGrad();
        partialFC.ZeroGrad();
        Scaler?.Update(foundInf: true);
        Scheduler.Step();
        return new StepResult(GlobalStep, loss, lr, Scheduler.LastLr, double.NaN, false,
            new StepTimings(forward, partialFCTime, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero))
            { LossScale = Scaler?.Scale ?? double.NaN, SkippedByScaler = Scaler is not null };
    }

    /// <summary>Whether every floating value of the backbone (parameters and buffers, e.g. BatchNorm statistics,
    /// which a NaN forward pass pollutes even when the step is skipped) and its float32 masters is finite.</summary>
    public bool BackboneIsFinite()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, t) in backbone.state_dict())
            if (t.is_floating_point() && !isfinite(t).all().item<bool>())
                return false;
        foreach (var t in trainable)
            if (!isfinite(t).all().item<bool>())
                return false;
        return true;
    }
}
