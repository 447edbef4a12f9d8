namespace ActorFace.Actors.Checkpoints;

/// <summary>A rank's checkpoint folder on its way in: written as a temporary, then promoted by rename; or removed
/// when the storage failed, so that a full disk does not stay full of half a checkpoint.</summary>
public static class RankCheckpointFolder
{
    /// <summary>Disk full, permission denied, read-only file system: the storage failed, not the rank.</summary>
    public static bool IsWriteFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>fsync every file, replace a stale <paramref name="final"/> (left by an aborted generation that reached
    /// the same step), rename, fsync the parent.</summary>
    public static void Promote(string temp, string final)
    {
        foreach (var file in Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories))
            AtomicFile.Fsync(file);
        if (Directory.Exists(final))
            Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        AtomicFile.FsyncDirectory(Path.GetDirectoryName(final)!);
    }

    /// <summary>Removes what exists of <paramref name="folders"/>; a failure is only reported (pruning retries later).</summary>
    public static void RemoveQuietly(Action<string> warn, params string?[] folders)
    {
        foreach (var dir in folders)
        {
            try
            {
                if (dir is not null && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (IsWriteFailure(e))
            {
                warn($"could not remove {dir}: {e.Message}");
            }
        }
    }
}
