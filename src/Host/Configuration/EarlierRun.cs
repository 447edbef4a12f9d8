using ActorFace.Actors.Checkpoints;

namespace ActorFace.Host.Configuration;

/// <summary>
/// A fresh start (no --resume) in an output folder that already holds an earlier run's checkpoints would have to
/// delete them (a stale manifest must never be resumed by a later recovery). Deleting days of training because a
/// flag was forgotten is never what the user meant, so the run is refused unless the user says which one they want.
/// </summary>
public static class EarlierRun
{
    /// <summary>Throws when <paramref name="outputDirectory"/> holds checkpoints and neither resume nor overwrite was asked for.</summary>
    public static void RefuseImplicitOverwrite(string outputDirectory, bool resume, bool overwrite)
    {
        if (resume || overwrite) return;
        var store = new CheckpointStore(outputDirectory);
        if (!Directory.Exists(store.Root)) return;
        var manifests = store.Manifests();
        var partial = Directory.EnumerateDirectories(store.Root, "step_*").Any();
        if (manifests.Count == 0 && !partial) return;
        var what = manifests.Count > 0
            ? $"{manifests.Count} checkpoint(s) of an earlier run (newest: {Path.GetFileName(manifests[^1].Path)})"
            : "unfinished checkpoint folders of an earlier run";
        throw new OutputDirectoryException(
            $"output directory '{outputDirectory}' holds {what} in {store.Root}; nothing was deleted. " +
            "Continue that run with --resume, or start a new one over it with --overwrite (deletes those checkpoints), or choose another --output.");
    }
}
