using System.Diagnostics;
using System.Net;
using System.Text;
using ActorFace.Tests;

namespace ActorFace.Model.Tests.Collectives;

/// <summary>One rank running as a separate OS process (tests/CollectivePeer), with its output captured.</summary>
public sealed class PeerProcess : IDisposable
{
    readonly StringBuilder output = new();
    readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    PeerProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output { get { lock (output) return output.ToString(); } }

    static string PeerAssembly()
    {
        var testDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(testDir);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testDir))!;
        var path = Path.Combine(SharedPaths.RepoRoot, "tests", "CollectivePeer", "bin", configuration, framework, "ActorFace.CollectivePeer.dll");
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"collective peer not built at {path} (it builds with tests/Model.Tests)", path);
    }

    public static PeerProcess Start(string mode, int rank, IReadOnlyList<IPEndPoint> endpoints, string token, params string[] extra)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(PeerAssembly());
        info.ArgumentList.Add(mode);
        info.ArgumentList.Add(rank.ToString());
        info.ArgumentList.Add(string.Join(",", endpoints.Select(e => e.ToString())));
        info.ArgumentList.Add(token);
        foreach (var e in extra) info.ArgumentList.Add(e);
        var process = new Process { StartInfo = info };
        var peer = new PeerProcess(process);
        process.OutputDataReceived += (_, e) => peer.Append(e.Data);
        process.ErrorDataReceived += (_, e) => peer.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    void Append(string? line)
    {
        if (line == null) return;
        lock (output) output.AppendLine(line);
        if (line == "READY") ready.TrySetResult();
    }

    public bool WaitReady(TimeSpan timeout) => ready.Task.Wait(timeout);

    /// <summary>Waits for exit (killing the process if it overstays) and returns the exit code.</summary>
    public int WaitExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
            throw new TimeoutException($"peer did not exit within {timeout}; output:\n{Output}");
        }
        Process.WaitForExit(); // flushes the asynchronous output readers
        return Process.ExitCode;
    }

    public void Dispose()
    {
        try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
