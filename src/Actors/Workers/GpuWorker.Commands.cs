using System.Diagnostics;
using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Protocol;
using Akka.Actor;
using Akka.Event;

namespace ActorFace.Actors.Workers;

/// <summary>How a <see cref="GpuWorker"/> executes the commands of its <see cref="RankState"/>: the step, the
/// credits, the checkpoint files (CheckpointStore commits them), the reports.</summary>
public sealed partial class GpuWorker
{
    private FeedBatch? _batch;              // the batch whose commands are being executed
    private RankStepResult _lastResult;
    private int _lastEpoch;
    private TimeSpan _lastWait;
    private long? _lastStepEnd;             // when the previous step ended: the wait for data starts there
    private string? _partialCheckpoint;     // the temporary rank folder of the checkpoint being written

    private void OnBatch(FeedBatch batch)
    {
        IReadOnlyList<RankCommand> commands;
        try
        {
            commands = _state.BatchArrived(batch.Step, _launch.Stop.Step);
        }
        catch
        {
            batch.Images.Dispose();
            batch.Labels.Dispose();
            throw;
        }
        _batch = batch;
        try
        {
            Execute(commands);
        }
        finally
        {
            _batch = null;
        }
    }

    private void Execute(IReadOnlyList<RankCommand> commands)
    {
        foreach (var command in commands)
            Execute(command);
    }

    private void Execute(RankCommand command)
    {
        switch (command)
        {
            case ReportProgress p: _launch.Watch.Progress(p.Step); break;
            case ReportIdle:
                _lastStepEnd = null; // waiting for the next lease is not waiting for data
                _launch.Watch.Idle();
                break;
            case GrantCredits c: _feed.Tell(new FeedCredits(c.Credits)); break;
            case StashBatch: Stash.Stash(); break;
            case UnstashBatches: Stash.UnstashAll(); break;
            case TrainStep t: Train(t.Step); break;
            case PublishStep p: PublishStep(p.Step); break;
            case WarnRank w:
                _log.Warning("rank {0}: {1}", _launch.Rank, w.Message);
                if (IsRank0) _trainingLog!.Write("warning: " + w.Message);
                break;
            case RollBack r: throw new NonFiniteLossException(r.Reason);
            case VerifyBackbone v: Verify(_launch.Services.Verification!, v.Step); break;
            case SaveBackbone: SaveBackboneFile(); break;
            case WriteCheckpoint w: WriteCheckpoint(w.Step); break;
            case CommitCheckpoint c: CommitCheckpoint(c); break;
            case DiscardCheckpoint d: DiscardCheckpoint(d); break;
            case NotifyCoordinator n: _launch.Coordinator.Tell(n.Message); break;
            default: throw new InvalidOperationException($"unknown rank command {command}");
        }
    }

    /// <summary>Runs the trainer on the batch in hand (and disposes it), then executes what the state makes of the result.</summary>
    private void Train(long step)
    {
        var batch = _batch ?? throw new InvalidOperationException($"rank {_launch.Rank}: no batch for step {step}");
        _batch = null;
        using (batch.Images)
        using (batch.Labels)
        {
            _lastWait = _lastStepEnd is { } end ? Stopwatch.GetElapsedTime(end) : TimeSpan.Zero;
            _lastResult = _trainer!.Step(step, batch.Images, batch.Labels);
            _lastEpoch = batch.Epoch;
            _lastStepEnd = Stopwatch.GetTimestamp();
        }
        Execute(_state.StepDone(step, _lastResult.Loss, _launch.Stop.Step));
    }

    private void PublishStep(long step)
    {
        var line = _speed!.Step(step, _lastResult.Loss, _lastEpoch, _lastResult.NextLearningRate, _lastResult.GradScale);
        if (line is null) return;
        PublishMetrics(WorkerState.Training, step, _lastResult, _lastWait);
        if (!IsRank0) return;
        _trainingLog!.Write(line);
        _launch.Coordinator.Tell(new TrainingProgress(_launch.Generation.Generation, step, _lastEpoch,
            _speed.LastLossAverage, _lastResult.NextLearningRate, _speed.LastSamplesPerSecond, _context!.Plan.TotalStep));
    }

    /// <summary>Checkpoint (also before finishing): replica here, shard in the ClassShardActor, in parallel, into a
    /// temporary rank folder that <see cref="CheckpointStore.CommitRankFolder"/> promotes once both are written.</summary>
    private void WriteCheckpoint(long step)
    {
        PublishMetrics(WorkerState.Checkpointing, step);
        try
        {
            _partialCheckpoint = _store.BeginRankFolder(step, _launch.Rank);
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            Execute(_state.CheckpointFolderFailed(e.Message));
            return;
        }
        _shard.Tell(new SaveShard(step, Path.Combine(_partialCheckpoint, "shard")));
        try
        {
            _trainer!.SaveReplica(Path.Combine(_partialCheckpoint, "replica"));
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            Execute(_state.ReplicaSaveFailed(e.Message));
        }
    }

    private void CommitCheckpoint(CommitCheckpoint commit)
    {
        var partial = _partialCheckpoint!;
        _partialCheckpoint = null;
        try
        {
            _store.CommitRankFolder(partial, commit.Step, _launch.Rank, Warn, commit.WithBackbone ? SaveBackboneFile : null);
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            Execute(_state.CheckpointCommitFailed(e.Message));
            return;
        }
        Execute(_state.CheckpointCommitted());
    }

    /// <summary>A checkpoint this rank could not write: its temporaries go (the previous checkpoint and backbone.pth
    /// are untouched: both are only ever replaced by rename), and the coordinator decides (checkpoint_failure).</summary>
    private void DiscardCheckpoint(DiscardCheckpoint discard)
    {
        RankCheckpointFolder.RemoveQuietly(Warn, _partialCheckpoint);
        _partialCheckpoint = null;
        _log.Warning("rank {0}: the checkpoint of step {1} could not be written: {2}", _launch.Rank, discard.Step, discard.Reason);
    }

    private void Warn(string message) => _log.Warning("rank {0}: {1}", _launch.Rank, message);

    private void SaveBackboneFile()
    {
        if (!IsRank0) return;
        var path = Path.Combine(_launch.Settings.OutputDirectory, "backbone.pth");
        AtomicFile.Write(path, temp => _trainer!.SaveBackbone(temp));
    }
}
