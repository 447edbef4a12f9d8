using System.Diagnostics;
using System.Runtime.InteropServices;
using ActorFace.Host.Infrastructure;

namespace ActorFace.Host.Chaos;

/// <summary>One `actorface train` child process: every output line is time-stamped on arrival into the shared
/// <see cref="RunLog"/> (and copied to its own log file); it can be SIGKILLed, SIGSTOPped and SIGCONTed.</summary>
public sealed class TrainProcess : IDisposable
{
    private const int SigCont = 18, SigStop = 19; // Linux x86-64 / arm64

    private readonly Process _process;
    private readonly StreamWriter _file;

    public TrainProcess(int index, int incarnation, IReadOnlyList<string> args, RunLog log, string logFile)
    {
        Index = index;
        Incarnation = incarnation;
        var info = SelfProcess.StartInfo(args, redirectOutput: true, redirectError: true);
        if (Environment.GetEnvironmentVariable("ACTORFACE_THREADS") is null)
            info.Environment["ACTORFACE_THREADS"] = "1"; // several processes share the cores
        _file = new StreamWriter(logFile) { AutoFlush = true };
        _process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}");
        void OnLine(string? line, bool err)
        {
            if (line is null) return;
            log.Add(index, line);
            lock (_file) _file.WriteLine((err ? "ERR " : "") + line);
        }
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, false);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, true);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Index { get; }
    public int Incarnation { get; }
    public int Pid => _process.Id;
    public bool Killed { get; private set; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public void Kill()
    {
        Killed = true;
        if (!_process.HasExited) _process.Kill(); // SIGKILL on Unix
    }

    public void Pause() => Signal(SigStop);

    public void Resume() => Signal(SigCont);

    public Task WaitAsync(CancellationToken token) => _process.WaitForExitAsync(token);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Resume();
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        lock (_file) _file.Dispose();
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited && SysKill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

#pragma warning disable SYSLIB1054 // two ints: no marshalling to generate
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
