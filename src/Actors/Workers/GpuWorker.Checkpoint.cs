using ActorFace.Actors.Checkpoints;
using ActorFace.Actors.Protocol;
using Akka.Actor;
using Akka.Event;

namespace ActorFace.Actors.Workers;

/// <summary>The end of a checkpoint lease: the rank's folder is promoted once the shard actor has written its part,
/// or removed when anything could not be written (the coordinator then applies checkpoint_failure).</summary>
public sealed partial class GpuWorker
{
    private void OnShardSaved(ShardSaved saved)
    {
        if (_pendingCheckpointDir is null || saved.Step != _done)
            return;
        var temp = _pendingCheckpointDir;
        _pendingCheckpointDir = null;
        if (_checkpointError is { } error)
        {
            CheckpointWriteFailed(temp, error);
            return;
        }
        var final = _store.RankDirectory(_done, _launch.Rank);
        try
        {
            RankCheckpointFolder.Promote(temp, final);
            if (IsRank0 && _launch.Settings.SaveBackbone)
                SaveBackbone();
        }
        catch (Exception e) when (RankCheckpointFolder.IsWriteFailure(e))
        {
            CheckpointWriteFailed(temp, e.Message, final); // also the renamed folder: no manifest will name it
            return;
        }
        _launch.Coordinator.Tell(new CheckpointSaved(_launch.Generation.Generation, _launch.Rank, _done));
        if (_leaseAction == LeaseAction.Finish)
        {
            if (IsRank0 && _launch.Services.Verification is { } v)
                Verify(v, _done);
            _launch.Coordinator.Tell(new RankFinished(_launch.Generation.Generation, _launch.Rank, _done));
        }
    }

    private void OnShardSaveFailed(ShardSaveFailed failed)
    {
        if (_pendingCheckpointDir is null || failed.Step != _done)
            return;
        var temp = _pendingCheckpointDir;
        _pendingCheckpointDir = null;
        CheckpointWriteFailed(temp, _checkpointError ?? failed.Reason);
    }

    /// <summary>A checkpoint this rank could not write: its temporaries go (the previous checkpoint and backbone.pth
    /// are untouched: both are only ever replaced by rename), and the coordinator decides (checkpoint_failure).</summary>
    private void CheckpointWriteFailed(string temp, string reason, string? final = null)
    {
        RankCheckpointFolder.RemoveQuietly(w => _log.Warning("rank {0}: {1}", _launch.Rank, w), temp, final);
        _log.Warning("rank {0}: the checkpoint of step {1} could not be written: {2}", _launch.Rank, _done, reason);
        _launch.Coordinator.Tell(new CheckpointFailed(_launch.Generation.Generation, _launch.Rank, _done, reason));
        if (_leaseAction == LeaseAction.Finish)
            _launch.Coordinator.Tell(new RankFinished(_launch.Generation.Generation, _launch.Rank, _done));
    }

    private void SaveBackbone()
    {
        if (!IsRank0) return;
        var path = Path.Combine(_launch.Settings.OutputDirectory, "backbone.pth");
        AtomicFile.Write(path, temp => _trainer!.SaveBackbone(temp));
    }
}
