using System.Globalization;
using ActorFace.Host.Infrastructure;

namespace ActorFace.Host.Chaos;

/// <summary>
/// Runs one chaos experiment: undisturbed baselines (one process; the same world size, or the listed ones), then N `actorface train`
/// processes on 127.0.0.1 that get SIGKILLed (workers and the coordinator's node) and SIGSTOPped at random times
/// while training; then measures every failure and checks the outcome (<see cref="ChaosReport"/>).
/// </summary>
public sealed class ChaosRunner(ChaosOptions options, TextWriter console)
{
    private readonly RunLog _log = new();
    private readonly Random _rng = new(options.Seed);
    private readonly List<TrainProcess> _procs = [];
    private readonly List<ChaosFailure> _failures = [];
    private readonly List<string> _notes = [];
    private string[] _args = [];

    private string RunDir => Path.Combine(options.Output, "run");
    private string LogDir => Path.Combine(options.Output, "logs");

    public async Task<ChaosReport> RunAsync(CancellationToken token = default)
    {
        if (Directory.Exists(options.Output)) Directory.Delete(options.Output, recursive: true);
        Directory.CreateDirectory(LogDir);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(options.Timeout);
        try
        {
            var baselines = new List<(int World, double? Accuracy)>();
            if (options.Baseline)
                foreach (var world in options.BaselineWorlds.DefaultIfEmpty(options.Processes).Distinct())
                    baselines.Add((world, await BaselineAsync(world, deadline.Token)));
            await ChaosAsync(deadline.Token);
            return ChaosReport.Build(options, _log, _failures, _procs, RunDir, baselines, _notes);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            _notes.Add($"the run did not end within {options.Timeout.TotalMinutes:0.#} min (--timeout)");
            return ChaosReport.Build(options, _log, _failures, _procs, RunDir, [], _notes);
        }
        finally
        {
            foreach (var p in _procs) p.Dispose();
        }
    }

    private List<string> TrainArgs(string output)
    {
        var args = new List<string> { "train" };
        if (options.Config is { } c) args.AddRange(["--config", c]);
        foreach (var s in ChaosOptions.DefaultSets.Concat(options.Sets)) args.AddRange(["--set", s]);
        args.AddRange(["--output", output]);
        return args;
    }

    private async Task<double?> BaselineAsync(int world, CancellationToken token)
    {
        var name = world == options.Processes ? "baseline" : $"baseline-world{world}";
        var dir = Path.Combine(options.Output, name);
        console.WriteLine($"chaos: undisturbed baseline, {world} rank(s) in one process -> {dir}");
        var log = new RunLog();
        using var p = new TrainProcess(-1, 0, [.. TrainArgs(dir), "--workers-per-node", Inv(world)], log, Path.Combine(LogDir, name + ".log"));
        await p.WaitAsync(token);
        if (p.ExitCode != 0)
        {
            _notes.Add($"the baseline run failed (exit {p.ExitCode}); see {Path.Combine(LogDir, name + ".log")}");
            return null;
        }
        return ChaosReport.FinalAccuracy(dir);
    }

    private async Task ChaosAsync(CancellationToken token)
    {
        var ports = SelfProcess.FreeLoopbackPorts(options.Processes);
        var seeds = string.Join(",", ports.Select(p => $"akka.tcp://actorface@127.0.0.1:{p}"));
        _args = [.. TrainArgs(RunDir), "--seed-nodes", seeds, "--workers-per-node", "1", "--min-workers", "1",
            "--set", $"cluster.start_workers={options.Processes}"];
        console.WriteLine($"chaos: {options.Processes} processes, {options.Kills} kill(s), {options.Pauses} pause(s), seed {options.Seed} -> {RunDir}");
        for (var i = 0; i < options.Processes; i++)
        {
            Start(i, ports[i]);
            if (i == 0) await Task.Delay(1000, token); // the first seed forms the cluster
        }

        var plan = Enumerable.Repeat("kill", options.Kills).Concat(Enumerable.Repeat("pause", options.Pauses)).OrderBy(_ => _rng.Next()).ToList();
        var coordinatorKill = options.Kills > 0 ? _rng.Next(options.Kills) : -1;
        var kills = 0;
        var since = 0.0;
        var regroupedPast = -1;
        foreach (var action in plan)
        {
            if (!await WaitForTrainingAsync(since, regroupedPast, token)) break;
            await Task.Delay(TimeSpan.FromSeconds(0.5 + 2.0 * _rng.NextDouble()), token);
            if (Ended()) break;
            var active = ActiveProcesses();
            if (action == "pause")
            {
                var target = active[_rng.Next(active.Count)];
                var at = _log.Now;
                target.Pause();
                _log.Add(target.Index, $"[chaos] SIGSTOP pid {target.Pid}");
                await Task.Delay(TimeSpan.FromSeconds(options.PauseSeconds), token);
                target.Resume();
                _log.Add(target.Index, $"[chaos] SIGCONT pid {target.Pid}");
                _failures.Add(new ChaosFailure("pause", target.Index, at, LastStep(at), CurrentGeneration()));
                console.WriteLine($"chaos: t={at:F1}s paused process {target.Index} for {options.PauseSeconds:0.#}s");
                since = _log.Now;
                regroupedPast = -1;
                continue;
            }
            if (active.Count < 2 && options.Restart)
            {
                // The killed processes are coming back: wait for the scale-up that takes them into the generation.
                while (!Ended() && (active = ActiveProcesses()).Count < 2)
                    await Task.Delay(200, token);
                if (Ended()) break;
            }
            if (active.Count < 2)
            {
                _notes.Add($"kill {kills + 1} skipped: only {active.Count} process(es) left in the generation");
                break;
            }
            var coordinator = CoordinatorProcess();
            var victim = kills == coordinatorKill && coordinator is not null && active.Contains(coordinator)
                ? coordinator
                : active.Where(p => p != coordinator).OrderBy(_ => _rng.Next()).FirstOrDefault() ?? active[0];
            var kind = victim == coordinator ? "kill coordinator node" : "kill worker";
            var time = _log.Now;
            var step = LastStep(time);
            var generation = CurrentGeneration();
            victim.Kill();
            _log.Add(victim.Index, $"[chaos] SIGKILL pid {victim.Pid}");
            _failures.Add(new ChaosFailure(kind, victim.Index, time, step, generation));
            console.WriteLine($"chaos: t={time:F1}s {kind}: process {victim.Index} (pid {victim.Pid}) at step {step}, generation {generation}");
            kills++;
            since = time;
            regroupedPast = generation;
            if (options.Restart)
            {
                _ = RestartLaterAsync(victim, ports[victim.Index], time, token);
            }
        }
        if (kills < options.Kills)
            _notes.Add($"only {kills} of {options.Kills} kill(s) happened before the run ended (make the job longer: --set num_image=...)");

        foreach (var p in _procs.Where(p => !p.Killed).ToList())
            await p.WaitAsync(token);
    }

    private void Start(int index, int port)
    {
        var incarnation = _procs.Count(p => p.Index == index);
        // A restarted process rejoins the running job, whose checkpoints are in the folder: --resume says so (a fresh
        // start there is refused; resume is per node and not part of the settings digest).
        string[] again = incarnation > 0 ? ["--resume"] : [];
        _procs.Add(new TrainProcess(index, incarnation, [.. _args, .. again, "--port", Inv(port)], _log,
            Path.Combine(LogDir, $"process-{index}.{incarnation}.log")));
    }

    /// <summary>A killed node comes back once the survivors have recovered, and joins as a stand-by.</summary>
    private async Task RestartLaterAsync(TrainProcess victim, int port, double killedAt, CancellationToken token)
    {
        while (!token.IsCancellationRequested && !Ended() &&
               !_log.Since(killedAt).Any(l => RunLog.GenerationStart(l.Text) is not null))
            await Task.Delay(200, token);
        if (Ended()) return;
        await Task.Delay(1000, token);
        lock (_procs) Start(victim.Index, port);
        _log.Add(victim.Index, "[chaos] restarted");
    }

    /// <summary>Waits until rank 0 has logged a step after <paramref name="since"/> in a generation later than
    /// <paramref name="regroupedPast"/> (after a kill: the survivors regrouped and train again; steps the old
    /// generation still logs before it notices the kill do not count).</summary>
    private async Task<bool> WaitForTrainingAsync(double since, int regroupedPast, CancellationToken token)
    {
        while (true)
        {
            if (Ended()) return false;
            var lines = _log.Since(since).ToList();
            var start = lines.LastOrDefault(l => RunLog.GenerationStart(l.Text) is not null);
            var regrouped = regroupedPast < 0 || (start is not null && RunLog.GenerationStart(start.Text)!.Value.Generation > regroupedPast);
            if (regrouped && lines.Any(l => RunLog.Step(l.Text) is not null && (start is null || l.Time > start.Time)) &&
                ActiveProcesses().Count > 0)
                return true;
            await Task.Delay(100, token);
        }
    }

    private bool Ended() => _log.Snapshot().Any(l => l.Text.Contains("training finished at global step", StringComparison.Ordinal)) ||
                            _procs.Where(p => !p.Killed).All(p => p.HasExited);

    private long LastStep(double before) =>
        _log.Snapshot().Where(l => l.Time <= before).Select(l => RunLog.Step(l.Text)).Where(s => s is not null).Select(s => s!.Value).DefaultIfEmpty(0).Last();

    private int CurrentGeneration() =>
        _log.Snapshot().Select(l => RunLog.GenerationStart(l.Text)?.Generation).Where(g => g is not null).Select(g => g!.Value).DefaultIfEmpty(0).Last();

    /// <summary>Live processes that host a rank of the current generation (`[node] generation G: hosting rank(s) r`).</summary>
    private List<TrainProcess> ActiveProcesses()
    {
        var generation = CurrentGeneration();
        var tag = $"[node] generation {generation}: hosting rank(s) ";
        var hosts = _log.Snapshot().Where(l => l.Text.StartsWith(tag, StringComparison.Ordinal) && !l.Text.StartsWith(tag + " of", StringComparison.Ordinal))
            .Select(l => l.Process).ToHashSet();
        lock (_procs)
            return _procs.Where(p => !p.Killed && !p.HasExited && hosts.Contains(p.Index)).ToList();
    }

    /// <summary>The process whose console shows the coordinator singleton's latest line.</summary>
    private TrainProcess? CoordinatorProcess()
    {
        var last = _log.Snapshot().LastOrDefault(l => l.Text.StartsWith("[coordinator]", StringComparison.Ordinal));
        lock (_procs)
            return last is null ? null : _procs.LastOrDefault(p => p.Index == last.Process && !p.Killed && !p.HasExited);
    }

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);
}
