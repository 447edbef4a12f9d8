using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ActorFace.Host.Infrastructure;

/// <summary>Starts this same `actorface` executable as a child (benchmarks run each configuration in its own process).</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        bool redirectOutput = false, bool redirectError = false)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(self)
        {
            UseShellExecute = false, RedirectStandardOutput = redirectOutput, RedirectStandardError = redirectError,
        };
        // Under `dotnet actorface.dll` the process path is the muxer: pass the entry assembly first.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        if (environment != null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        return info;
    }

    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool redirectOutput = false) =>
        Process.Start(StartInfo(args, environment, redirectOutput)) ?? throw new InvalidOperationException("could not start a child actorface process");

    /// <summary>Runs a child to completion and returns its exit code and standard output.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var child = Start(args, environment, redirectOutput: true);
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output);
    }

    /// <summary>Free loopback ports, as a comma-separated endpoint list.</summary>
    public static string LoopbackEndpoints(int count) =>
        string.Join(",", FreeLoopbackPorts(count).Select(port => new IPEndPoint(IPAddress.Loopback, port).ToString()));

    /// <summary><paramref name="count"/> distinct free loopback ports: every probe stays bound until all are chosen,
    /// so the kernel cannot hand out the same port twice.</summary>
    public static int[] FreeLoopbackPorts(int count)
    {
        var probes = Enumerable.Range(0, count).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return s;
        }).ToList();
        var ports = probes.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        probes.ForEach(s => s.Dispose());
        return ports;
    }
}
