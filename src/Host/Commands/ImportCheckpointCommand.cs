using System.CommandLine;
using ActorFace.Actors.Checkpoints.ArcfaceTorch;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Commands;

/// <summary>
/// `actorface import-checkpoint --from DIR --config JOB [--out RUNDIR]`: a job started with arcface_torch
/// (checkpoint_gpu_{rank}.pt from save_all_states = True) becomes an ActorFace checkpoint that `train --resume`
/// continues, on any number of ranks. Files are read through the restricted unpickler only.
/// </summary>
public static class ImportCheckpointCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Folder of arcface_torch's checkpoint_gpu_<rank>.pt files (its cfg.output)", Required = true };
        var config = new Option<string?>("--config") { Description = "The job's config (its configs/*.py as is, or a HOCON port): network, batch size and classes, which the files do not record" };
        var set = new Option<string[]>("--set") { Description = "Override a key of the config, as for train", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--out") { Description = "ActorFace output folder to write the checkpoint into (default: the config's output, work_dirs/<config>)" };
        var command = new Command("import-checkpoint", "Turn an arcface_torch run's checkpoints into an ActorFace checkpoint that train --resume continues");
        foreach (var o in new Option[] { from, config, set, output }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(from)!, parse.GetValue(config), parse.GetValue(set) ?? [], parse.GetValue(output),
            Console.Out, Console.Error));
        return command;
    }

    public static int Run(string from, string? configFile, IReadOnlyList<string> sets, string? output, TextWriter stdout, TextWriter stderr)
    {
        if (configFile is null)
        {
            stderr.WriteLine("error: --config is required: the checkpoint files record no network name, batch size or class count, " +
                             "so give the job's config (the configs/*.py the run was started with, or its HOCON port)");
            return 2;
        }
        try
        {
            var loaded = TrainingConfigLoader.Load(configFile, sets);
            var settings = loaded.Settings;
            var outDir = output ?? settings.OutputDirectory;
            ReferenceCheckpoint.FilesIn(from); // a wrong --from creates no output folder
            OutputDirectory.EnsureWritable(outDir);
            var manifest = ReferenceCheckpointImporter.Import(from, settings, outDir, stdout.WriteLine);
            stdout.WriteLine($"imported step {manifest.Step} (epoch {manifest.Epoch}, {manifest.WorldSize} rank(s)); continue it with:");
            stdout.WriteLine($"  actorface train --config {configFile} --output {outDir} --resume");
            return 0;
        }
        catch (Exception e) when (e is ConfigException or OutputDirectoryException or InvalidDataException or FileNotFoundException
                                      or DirectoryNotFoundException or ArgumentException)
        {
            stderr.WriteLine("error: " + e.Message);
            return 2;
        }
    }
}
