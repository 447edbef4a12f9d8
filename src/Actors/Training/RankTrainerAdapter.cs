using ActorFace.Actors.Workers;
using ActorFace.Model.Backbones;
using ActorFace.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Actors.Training;

/// <summary>
/// <see cref="IRankTrainer"/> over Model's RankTrainer. Replica folder: backbone.pt (PyTorch state_dict) and
/// trainer.afta (optimiser, LR schedule, step). The class shard is saved by its ClassShardActor.
/// </summary>
public sealed class RankTrainerAdapter : IRankTrainer
{
    public const string BackboneFile = "backbone.pt";
    public const string TrainerFile = "trainer.afta";

    private readonly RankTrainer _trainer;
    private readonly nn.Module<Tensor, Tensor> _backbone;
    private readonly Device _device;

    public RankTrainerAdapter(nn.Module<Tensor, Tensor> backbone, RankTrainer trainer, Device device)
    {
        _backbone = backbone;
        _trainer = trainer;
        _device = device;
    }

    public nn.Module<Tensor, Tensor> Backbone => _backbone;

    public RankTrainer Trainer => _trainer;

    public RankStepResult Step(long globalStep, Tensor images, Tensor labels)
    {
        if (_trainer.GlobalStep + 1 != globalStep)
            throw new InvalidOperationException($"trainer is at step {_trainer.GlobalStep} but was given the batch of step {globalStep}");
        using var scope = NewDisposeScope();
        var r = _trainer.Step(ToDevice(images), ToDevice(labels));
        return new RankStepResult(r.Loss, r.NextLr, r.LossScale, r.GradNorm, r.Timings);
    }

    /// <summary>
    /// Host batch → the rank's device. To CUDA: through page-locked memory with a non-blocking copy, so the transfer
    /// runs on the DMA engine and the host thread goes on queueing the forward (the caching host allocator keeps the
    /// pinned block alive until the copy is done, also after the pinned tensor is disposed).
    /// </summary>
    private Tensor ToDevice(Tensor t)
    {
        if (t.device_type == _device.type && t.device_index == _device.index) return t;
        if (_device.type != DeviceType.CUDA || t.device_type != DeviceType.CPU) return t.to(_device);
        var pinned = t.is_pinned() ? t : t.pin_memory();
        return pinned.to(_device, non_blocking: true);
    }

    public void SaveReplica(string directory)
    {
        RequireFiniteWeights("checkpoint");
        Directory.CreateDirectory(directory);
        StateDictFile.Save(_backbone, Path.Combine(directory, BackboneFile));
        _trainer.Save(Path.Combine(directory, TrainerFile));
    }

    public void LoadReplica(string directory, long stepsDone)
    {
        StateDictFile.Load(_backbone, Path.Combine(directory, BackboneFile));
        _trainer.Load(Path.Combine(directory, TrainerFile), stepsDone);
    }

    public void SaveBackbone(string path)
    {
        RequireFiniteWeights("backbone.pth");
        StateDictFile.Save(_backbone, path);
    }

    /// <summary>NaN or infinite weights are never written: the rank fails instead, the generation rolls back to the
    /// last complete checkpoint, and backbone.pth keeps the last good weights.</summary>
    private void RequireFiniteWeights(string what)
    {
        if (!_trainer.BackboneIsFinite())
            throw new NonFiniteWeightsException(
                $"the backbone holds NaN or infinite values after step {_trainer.GlobalStep}: {what} not written (the previous one stays); rolling back to the last complete checkpoint");
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _backbone.Dispose();
    }
}

public sealed class NonFiniteWeightsException(string message) : Exception(message);
