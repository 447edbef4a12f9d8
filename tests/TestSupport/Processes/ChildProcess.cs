using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ActorFace.Tests;

/// <summary>
/// A real OS process that a test starts: its output (stderr lines prefixed "ERR ") is captured as it arrives, it can be
/// waited for, killed (SIGKILL, like a crash) or signalled (SIGTERM/SIGINT, like a scheduler), and it never outlives
/// the test (Dispose kills the whole tree). <see cref="Run"/> is the one-shot form: run, wait, return the output.
/// </summary>
public class ChildProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();
    readonly List<string> lines = [];

    public ChildProcess(string exe, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        process = new Process { StartInfo = StartInfo(exe, args, environment, workingDirectory) };
        process.OutputDataReceived += (_, e) => Append(e.Data, "");
        process.ErrorDataReceived += (_, e) => Append(e.Data, "ERR ");
        if (!process.Start()) throw new InvalidOperationException($"cannot start {exe}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process => process;

    public string Output { get { lock (output) return output.ToString(); } }

    void Append(string? line, string prefix)
    {
        if (line is null) return;
        lock (output)
        {
            output.Append(prefix).AppendLine(line);
            lines.Add(prefix + line);
            Monitor.PulseAll(output);
        }
    }

    /// <summary>Blocks until a whole output line equals <paramref name="line"/>; false on timeout.</summary>
    public bool WaitForLine(string line, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (output)
        {
            while (!lines.Contains(line))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(output, left);
            }
            return true;
        }
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; throws with the output so far when the process
    /// exits first or the time runs out.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"'{text}' did not appear within {timeout}; output:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits for exit (killing the process if it overstays) and returns the exit code.</summary>
    public int WaitExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{process.StartInfo.FileName} did not exit within {timeout}; output:\n{Output}");
        }
        process.WaitForExit(); // flushes the asynchronous output readers
        return process.ExitCode;
    }

    /// <inheritdoc cref="WaitExit"/>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        await ExitOrKillAsync(process, timeout, () => $"{process.StartInfo.FileName} did not exit within {timeout}; output:\n{Output}");
        process.WaitForExit(); // flushes the asynchronous output readers
        return process.ExitCode;
    }

    /// <summary>SIGKILL, like a crashed process: no shutdown, no goodbye.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>Sends a POSIX signal (15 = SIGTERM, 2 = SIGINT), as a scheduler or `kill` does.</summary>
    public void Signal(int signal)
    {
        if (SysKill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

#pragma warning disable SYSLIB1054 // two ints: no marshalling to generate
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int SysKill(int pid, int signal);
#pragma warning restore SYSLIB1054

    public void Dispose()
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        process.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The outcome of a process run to its end.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="exe"/> to its end and returns its exit code and output; a run that overstays
    /// <paramref name="timeout"/> is killed with its tree and reported as a <see cref="TimeoutException"/>.
    /// An executable that is not installed throws <see cref="System.ComponentModel.Win32Exception"/>.</summary>
    public static async Task<Result> RunAsync(string exe, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var list = args.ToList();
        using var process = Process.Start(StartInfo(exe, list, environment, null))
                            ?? throw new InvalidOperationException($"cannot start {exe}");
        // Both pipes are drained at once so that a chatty process cannot block on a full one.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await ExitOrKillAsync(process, timeout, () => $"{exe} {string.Join(' ', list)} did not finish within {timeout}");
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <inheritdoc cref="RunAsync"/>
    public static Result Run(string exe, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(exe, args, timeout, environment).GetAwaiter().GetResult();

    /// <summary>Waits for <paramref name="process"/> to exit; past <paramref name="timeout"/> kills its tree and throws.</summary>
    static async Task ExitOrKillAsync(Process process, TimeSpan timeout, Func<string> timeoutMessage)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(timeoutMessage());
        }
    }

    static ProcessStartInfo StartInfo(string exe, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment,
        string? workingDirectory)
    {
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return info;
    }
}
