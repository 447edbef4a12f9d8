using System.CommandLine;
using System.Net;
using ActorFace.Host.Monitoring;
using ActorFace.Actors.Security;
using ActorFace.Actors.Training;
using ActorFace.Actors.Workers;
using ActorFace.Host.Clustering;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Commands;

/// <summary>
/// `actorface train`: arcface_torch's train_v2.py + torchrun as one command. Every process of a job runs it with the
/// same config; the first seed node (or a lone process) also hosts the coordinator.
/// </summary>
public static class TrainCommand
{
    public const string DefaultConfig = "hocon/synthetic_cpu.conf";

    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = $"HOCON job file, or an arcface_torch configs/*.py read as is (default {DefaultConfig}: synthetic identities, CPU, minutes)" };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set batch_size=64 (repeatable; key relative to actorface.)", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--output") { Description = "Output directory (checkpoints, training.log, backbone.pth)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest complete checkpoint in the output directory (any number of ranks)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Start from scratch in an output directory that holds an earlier run's checkpoints, deleting them" };
        var cluster = new ClusterOptions();
        var http = new Option<string?>("--http") { Description = "Serve the monitor's /, /status and /metrics on HOST:PORT (loopback only unless --http-allow-remote)" };
        var allowRemote = new Option<bool>("--http-allow-remote") { Description = "Allow --http on a non-loopback address (no authentication!)" };
        var command = new Command("train", "Train a face-recognition model (ArcFace/CosFace, Partial FC) on this machine or a cluster");
        command.Options.Add(config);
        command.Options.Add(set);
        command.Options.Add(output);
        command.Options.Add(resume);
        command.Options.Add(overwrite);
        foreach (var option in cluster.All)
            command.Options.Add(option);
        command.Options.Add(http);
        command.Options.Add(allowRemote);
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) && parse.GetValue(overwrite))
            {
                Console.Error.WriteLine("error: --resume continues the earlier run and --overwrite deletes it: give one of them");
                return 2;
            }
            var sets = new List<string>(parse.GetValue(set) ?? []);
            if (parse.GetValue(output) is { } o) sets.Add("output=" + o);
            if (parse.GetValue(resume)) sets.Add("resume=true");
            sets.AddRange(cluster.ToSets(parse));
            IPEndPoint? endpoint;
            try
            {
                endpoint = parse.GetValue(http) is { } h ? HttpEndpoint.Parse(h, parse.GetValue(allowRemote)) : null;
                if (endpoint is not null) HttpEndpoint.RequireFree(endpoint); // before the cluster starts
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }
            return Run(parse.GetValue(config), sets, Console.Out, Console.Error, endpoint, parse.GetValue(overwrite));
        });
        return command;
    }

    public static int Run(string? configFile, IReadOnlyList<string> sets, TextWriter stdout, TextWriter stderr, IPEndPoint? http = null,
        bool overwrite = false)
    {
        LoadedConfig loaded;
        ClusterSecurity security;
        IReadOnlyList<string> initialWeights;
        try
        {
            loaded = TrainingConfigLoader.Load(ResolveConfig(configFile), sets);
            security = SecurityConfig.Load(loaded);
            // Refused before any data is opened or any port is bound (the collective binds on the same host).
            StartupChecks.RequireProtectedRemote(loaded, security);
            OutputDirectory.EnsureWritable(loaded.Settings.OutputDirectory);
            // Only the process that starts the job decides fresh vs. resumed (its coordinator clears the folder);
            // a node that joins a running job (or comes back after a crash) finds that job's checkpoints there.
            if (IsFirstSeed(loaded.Settings))
                EarlierRun.RefuseImplicitOverwrite(loaded.Settings.OutputDirectory, loaded.Settings.Resume, overwrite);
            initialWeights = InitialWeights.Check(loaded.Settings);
        }
        catch (Exception e) when (e is ConfigException or OutputDirectoryException or ArgumentException)
        {
            stderr.WriteLine("error: " + e.Message);
            return 2;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            stderr.WriteLine("error: " + e.Message);
            return 2;
        }
        using var _ = security;
        foreach (var notice in loaded.Notices)
            stdout.WriteLine("config: " + notice);
        foreach (var line in initialWeights)
            stdout.WriteLine(line);

        var settings = loaded.Settings;
        RuntimeThreads.Configure(settings);
        RankServices services;
        try
        {
            services = ProductionServices.Create(settings, stdout);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot open the training data (actorface.dataset = {settings.Dataset}, rec = '{settings.Rec}'): {e.Message}");
            return 2;
        }
        var output = settings.OutputDirectory;
        // The data plane gets the same protection as Akka.Remote (secret handshake, TLS) and refuses an unprotected
        // ring that spans machines; each rank logs what its listener exposes.
        var collectives = new ModelCollectives
        {
            Protect = (rank, endpoints, options) => security.Protect(rank, endpoints, options, line => stdout.WriteLine(line)),
            NcclGuard = (rank, endpoints) => security.CheckNccl(rank, endpoints, line => stdout.WriteLine(line)),
        };
        services = services with { Collectives = collectives };
        var result = ClusterRuntime.RunAsync(settings, loaded.Hocon, () => services, stdout,
                system => MonitoringHost.Start(system, new MonitoringHostOptions
                {
                    // One TensorBoard writer per job (arcface_torch: rank 0), on the first seed node.
                    Http = http, OutputDir = output, TensorBoardDir = IsFirstSeed(settings) ? Path.Combine(output, "tensorboard") : null,
                }), security)
            .GetAwaiter().GetResult();
        if (!result.Success)
        {
            stderr.WriteLine("error: " + result.Message);
            return 1;
        }
        stdout.WriteLine($"actorface: {result.Message}; output in {Path.GetFullPath(settings.OutputDirectory)}");
        return 0;
    }

    private static bool IsFirstSeed(ActorFace.Actors.Settings.TrainingSettings s)
    {
        if (s.Cluster.SeedNodes.Count == 0) return true;
        var first = Akka.Actor.Address.Parse(s.Cluster.SeedNodes[0]);
        return first.Port == s.Cluster.Port && first.Host == s.Cluster.Hostname;
    }

    /// <summary>A relative config path is looked up in the working directory, then next to the executable.</summary>
    private static string ResolveConfig(string? configFile)
    {
        var path = configFile ?? DefaultConfig;
        if (File.Exists(path) || Path.IsPathRooted(path)) return path;
        var beside = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(beside) ? beside : path;
    }
}
