using ActorFace.Actors.Settings;
using ActorFace.Actors.Training;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Actors.Checkpoints.ArcfaceTorch;

/// <summary>
/// Turns the checkpoint_gpu_{rank}.pt files of a job started with arcface_torch into an ActorFace checkpoint (rank
/// folders + manifest, written last) that `train --resume` continues — on the same or any other number of ranks,
/// since resuming re-shards the class centres. Per rank: the backbone (strictly matched to the job's network), the
/// Partial FC shard with its optimiser state, the backbone's optimiser state mapped by parameter name, the LR
/// schedule and the step. The files carry no batch size or network name, so the job's config supplies them.
/// </summary>
public static class ReferenceCheckpointImporter
{
    public static CheckpointManifest Import(string fromDirectory, TrainingSettings s, string outputDirectory, Action<string> log)
    {
        var files = ReferenceCheckpoint.FilesIn(fromDirectory);
        var store = new CheckpointStore(outputDirectory);
        if (store.Manifests().Count > 0)
            throw new InvalidDataException($"{store.Root} already holds ActorFace checkpoints; import into an empty output folder (--out)");
        var kind = ParameterOptimizer.Parse(s.Optimizer);
        using var backbone = BackboneFactory.Create(s.Network, s.EmbeddingSize, s.Dropout, s.Fp16);
        // Reference optimiser ids follow PyTorch's parameters() order; ActorFace's trainer indexes the parameters that
        // require grad in TorchSharp's order. Names connect the two.
        var referenceOrder = StateDictEntries.Of(backbone).Where(e => e.IsParameter).Select(e => e.Key).ToList();
        var trainable = backbone.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();

        (int Epoch, long Step, ReferenceSchedule Schedule)? first = null;
        try
        {
            return Write(files, s, store, backbone, referenceOrder, trainable, kind, fromDirectory, log, ref first);
        }
        catch when (first is { } f && !File.Exists(store.ManifestPath(f.Step)))
        {
            // Rank folders without a manifest are never resumed; remove them so nothing half-written stays behind.
            if (Directory.Exists(store.StepDirectory(f.Step))) Directory.Delete(store.StepDirectory(f.Step), recursive: true);
            throw;
        }
    }

    private static CheckpointManifest Write(List<string> files, TrainingSettings s, CheckpointStore store, nn.Module backbone,
        List<string> referenceOrder, List<string> trainable, OptimizerKind kind, string fromDirectory, Action<string> log,
        ref (int Epoch, long Step, ReferenceSchedule Schedule)? first)
    {
        var world = files.Count;
        long classStart = 0;
        for (var rank = 0; rank < world; rank++)
        {
            using var scope = NewDisposeScope();
            using var c = ReferenceCheckpoint.Read(files[rank]);
            if (first is null)
            {
                first = (c.Epoch, c.GlobalStep, c.Schedule);
                log($"{fromDirectory}: {world} rank file(s) of an arcface_torch run at epoch {c.Epoch}, global step {c.GlobalStep} ({c.Optimizer}, lr {c.Lr}, weight decay {c.WeightDecay})");
                if (c.Optimizer != s.Optimizer)
                    throw new InvalidDataException($"{files[rank]}: the checkpoint holds {c.Optimizer} state but the job's optimizer is {s.Optimizer}");
                if (c.Schedule.LastEpoch != c.GlobalStep)
                    log($"warning: the scheduler took {c.Schedule.LastEpoch} steps for global step {c.GlobalStep}; resuming uses the scheduler's position");
                if (Math.Abs(c.WeightDecay - s.WeightDecay) > 1e-12)
                    log($"note: the checkpoint's weight_decay {c.WeightDecay} differs from the job's {s.WeightDecay}; the job's is used from now on");
            }
            else if ((c.Epoch, c.GlobalStep, c.Schedule) != first)
                throw new InvalidDataException($"{files[rank]}: epoch {c.Epoch}, step {c.GlobalStep} and schedule differ from rank 0's (files of different epochs?)");

            StateDictFile.Load(backbone, $"{files[rank]}: state_dict_backbone (network = {s.Network}, embedding_size = {s.EmbeddingSize})", c.Backbone);
            if (c.BackboneState.Count != referenceOrder.Count)
                throw new InvalidDataException($"{files[rank]}: param_groups[0] names {c.BackboneState.Count} backbone parameters, {s.Network} has {referenceOrder.Count}");
            var layout = new ShardLayout(s.NumClasses, world, rank);
            var rows = c.PartialFcWeight.shape[0];
            if (c.PartialFcWeight.dim() != 2 || c.PartialFcWeight.shape[1] != s.EmbeddingSize)
                throw new InvalidDataException($"{files[rank]}: Partial FC weight [{string.Join(", ", c.PartialFcWeight.shape)}] is not [num_local, embedding_size = {s.EmbeddingSize}]");
            if (layout.ClassStart != classStart || layout.NumLocal != rows)
                throw new InvalidDataException($"{files[rank]}: rank {rank} holds {rows} class centres from class {classStart}; num_classes = {s.NumClasses} " +
                                               $"over {world} ranks gives it {layout.NumLocal} from class {layout.ClassStart} (is num_classes right?)");
            classStart += rows;

            var rankDir = store.RankDirectory(c.GlobalStep, rank);
            var replica = Path.Combine(rankDir, "replica");
            Directory.CreateDirectory(replica);
            StateDictFile.Save(backbone, Path.Combine(replica, RankTrainerAdapter.BackboneFile));
            var states = trainable.Select(name => (IReadOnlyDictionary<string, Tensor>)c.BackboneState[referenceOrder.IndexOf(name)]).ToList();
            var masters = s.Bf16 ? trainable.Select(name => backbone.named_parameters().First(p => p.name == name).parameter.detach()).ToList() : null;
            RankTrainer.WriteState(Path.Combine(replica, RankTrainerAdapter.TrainerFile), kind, s.GradientAcc, c.GlobalStep,
                new PolynomialLRWarmupState(c.Schedule.BaseLr, c.Schedule.WarmupIters, c.Schedule.TotalIters, c.Schedule.Power,
                    c.Schedule.LastEpoch, c.Schedule.LastLr), states, masters);

            // Sample rate 1 for writing: the shard file does not record it, and no sampling happens here.
            var options = ProductionTrainerFactory.PfcOptions(s) with { SampleRate = 1.0 };
            using var shard = new PartialFCShard(layout, s.EmbeddingSize, ProductionTrainerFactory.Margin(s), options, initialWeight: c.PartialFcWeight);
            shard.Optimizer.SetState(0, c.PartialFcState);
            var shardDir = Path.Combine(rankDir, "shard");
            Directory.CreateDirectory(shardDir);
            shard.Save(Path.Combine(shardDir, PartialFCClassShard.ShardFile));
            log($"rank {rank}: backbone ({c.Backbone.Count} tensors), {rows} class centres, optimiser state of " +
                $"{c.BackboneState.Count(x => x.Count > 0)} backbone parameter(s) and the centres imported");
        }
        if (classStart != s.NumClasses)
            throw new InvalidDataException($"{fromDirectory}: the rank files hold {classStart} class centres, the job's num_classes is {s.NumClasses}");

        var manifest = new CheckpointManifest
        {
            Step = first!.Value.Step,
            Epoch = first.Value.Epoch,
            Generation = 0,
            WorldSize = world,
            BatchSize = s.BatchSize,
            NumClasses = s.NumClasses,
            EmbeddingSize = s.EmbeddingSize,
            Network = s.Network,
            CreatedUtc = DateTime.UtcNow,
        };
        var path = store.Write(manifest); // last: only now is the checkpoint complete
        log($"wrote {path}");
        return CheckpointStore.Read(path);
    }
}
