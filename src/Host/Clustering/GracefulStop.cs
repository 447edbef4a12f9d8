using System.Runtime.InteropServices;
using ActorFace.Actors.Workers;
using Akka.Actor;

namespace ActorFace.Host.Clustering;

/// <summary>
/// SIGTERM (what a scheduler sends before preempting a job) and SIGINT (Ctrl-C) while this process trains: the first
/// asks the coordinator, through this node, to stop the whole job at a common step with a checkpoint (it ends
/// successfully, exit code 0, naming the checkpoint to resume from); a second signal exits at once (128 + signal).
/// If the job has not ended some time after the grace period (the coordinator is gone), the process exits by itself.
/// </summary>
public sealed class GracefulStop : IDisposable
{
    /// <summary>What the process waits beyond stop_grace_period for the coordinator's end of the job.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(20);

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly ActorSystem _system;
    private readonly TextWriter _console;
    private readonly TimeSpan _grace;
    private readonly CancellationTokenSource _ended = new();
    private int _signals;

    public GracefulStop(ActorSystem system, TextWriter console, TimeSpan gracePeriod)
    {
        (_system, _console, _grace) = (system, console, gracePeriod);
        if (OperatingSystem.IsWindows()) return;
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
    }

    private void OnSignal(PosixSignalContext context)
    {
        var name = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        context.Cancel = true; // the runtime would otherwise end the process now
        if (Interlocked.Increment(ref _signals) > 1)
        {
            _console.WriteLine($"actorface: second stop signal ({name}): exiting at once; the last complete checkpoint stays resumable");
            ExitNow(128 + (context.Signal == PosixSignal.SIGTERM ? 15 : 2));
        }
        _console.WriteLine($"actorface: {name} received: stopping the job at a common step with a checkpoint " +
                           $"(stop_grace_period = {_grace.TotalSeconds:0.#} s); send it again to exit at once");
        _system.ActorSelection("/user/worker-node").Tell(new RequestStop(name));
        _ = Task.Delay(_grace + Slack, _ended.Token).ContinueWith(t =>
        {
            if (t.IsCanceled) return;
            _console.WriteLine($"actorface: the job did not end within stop_grace_period + {Slack.TotalSeconds:0} s after {name} " +
                               "(coordinator unreachable?): exiting; the last complete checkpoint stays resumable");
            ExitNow(1);
        }, TaskScheduler.Default);
    }

    /// <summary>Ends the process without running .NET's shutdown (finalizers, exit handlers): ranks may be inside
    /// libtorch on other threads, and tearing the runtime down under them crashes (seen: SIGSEGV, exit 139). Files
    /// already renamed into place are complete; half-written checkpoints are temporaries that are never resumed.</summary>
    private void ExitNow(int code)
    {
        _console.Flush();
        Console.Out.Flush();
        Console.Error.Flush();
        SysExit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void SysExit(int status);

    public void Dispose()
    {
        _ended.Cancel();
        foreach (var r in _registrations) r.Dispose();
    }
}
