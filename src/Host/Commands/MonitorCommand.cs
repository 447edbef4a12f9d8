using System.CommandLine;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Security;
using ActorFace.Host.Monitoring;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Host.Commands;

/// <summary>`actorface monitor`: join a training cluster as a watch-only node and show its metrics.</summary>
public static class MonitorCommand
{
    public static Command Create()
    {
        var seeds = new Option<string?>("--seed-nodes")
        {
            Description = "Comma-separated seed addresses, e.g. akka.tcp://actorface@127.0.0.1:4053. Default: the local run " +
                          $"registered in <output>/{LocalRunRegistry.FileName} or {LocalRunRegistry.TempFile}",
        };
        var output = new Option<string?>("--output") { Description = "Run output folder whose cluster.json names the seed nodes" };
        var hostname = new Option<string>("--hostname") { Description = "Address this monitor node listens on (must be reachable from the cluster)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Remoting port of this monitor node (0: any free port)", DefaultValueFactory = _ => 0 };
        var once = new Option<bool>("--once") { Description = "Collect for up to --wait seconds, print one snapshot and exit" };
        var json = new Option<bool>("--json") { Description = "With --once: print the snapshot as JSON (the /status format)" };
        var wait = new Option<double>("--wait") { Description = "With --once: seconds to collect at most", DefaultValueFactory = _ => 5 };
        var joinTimeout = new Option<double>("--join-timeout") { Description = "Seconds to wait for joining the cluster", DefaultValueFactory = _ => 30 };
        var refresh = new Option<double>("--refresh") { Description = "Seconds between dashboard refreshes", DefaultValueFactory = _ => 1 };
        var http = new Option<string?>("--http") { Description = "Serve /, /status and /metrics on HOST:PORT (loopback only unless --http-allow-remote)" };
        var allowRemote = new Option<bool>("--http-allow-remote") { Description = "Allow --http on a non-loopback address (no authentication!)" };
        var tensorboard = new Option<string?>("--tensorboard") { Description = "Also write loss, lr and verification accuracy as TensorBoard events to this folder" };
        var verbose = new Option<bool>("--verbose") { Description = "Show Akka warnings on the console" };
        var secretFile = new Option<string?>("--secret-file") { Description = $"The cluster secret of a protected cluster (default: ${ClusterSecret.FileVariable})" };
        var tls = new Option<string[]>("--tls") { Description = "Certificate files of a cluster using them: CERT.pem KEY.pem CA.pem", Arity = new ArgumentArity(3, 3), AllowMultipleArgumentsPerToken = true };

        var command = new Command("monitor", "Watch a training cluster: members, ranks, throughput, loss, loaders, shards, recent events");
        foreach (var option in new Option[] { seeds, output, hostname, port, once, json, wait, joinTimeout, refresh, http, allowRemote, tensorboard, verbose, secretFile, tls })
            command.Options.Add(option);
        command.SetAction((parse, ct) =>
        {
            MonitorOptions options;
            try
            {
                if (parse.GetValue(json) && !parse.GetValue(once)) throw new ArgumentException("--json needs --once");
                var seedText = parse.GetValue(seeds);
                var (systemName, seedList) = MonitorNode.ParseSeeds(
                    string.IsNullOrWhiteSpace(seedText) ? LocalRunRegistry.Find(parse.GetValue(output)).SeedNodes : [seedText]);
                var httpText = parse.GetValue(http);
                if (httpText is not null) HttpEndpoint.RequireFree(HttpEndpoint.Parse(httpText, parse.GetValue(allowRemote)));
                options = new MonitorOptions(seedList, systemName, parse.GetValue(hostname)!, Port(parse.GetValue(port)),
                    parse.GetValue(once), parse.GetValue(json), Seconds("--wait", parse.GetValue(wait)),
                    Seconds("--join-timeout", parse.GetValue(joinTimeout)), Seconds("--refresh", parse.GetValue(refresh)),
                    httpText is null ? null : HttpEndpoint.Parse(httpText, parse.GetValue(allowRemote)),
                    parse.GetValue(tensorboard), parse.GetValue(verbose), Security(parse.GetValue(secretFile), parse.GetValue(tls)));
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or InvalidOperationException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(2);
            }
            return MonitorSession.RunAsync(options, Console.Out, Console.Error, ct);
        });

        var count = new Option<int>("--count") { Description = "Records to publish per route", DefaultValueFactory = _ => 10_000 };
        var bench = new Command("bench", "Measure the cost of publishing WorkerMetrics (EventStream, DistributedPubSub local and remote)");
        bench.Options.Add(count);
        bench.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(count);
            if (n < 1) { Console.Error.WriteLine("error: --count must be at least 1"); return 2; }
            Console.WriteLine($"publishing {n} WorkerMetrics per route:");
            await PublishBenchmark.RunAsync(n, r =>
                Console.WriteLine($"{r.Route,-42} {r.MicrosPerPublish,8:F2} µs/publish (caller)   {r.DeliveredPerSecond,10:F0} records/s aggregated"));
            return 0;
        });
        command.Subcommands.Add(bench);
        command.Subcommands.Add(Demo());
        return command;
    }

    private static Command Demo()
    {
        var port = new Option<int>("--port") { Description = "Remoting port of the fake training node", DefaultValueFactory = _ => 4053 };
        var ranks = new Option<int>("--ranks") { Description = "Number of fake ranks", DefaultValueFactory = _ => 4 };
        var demo = new Command("demo", "Run a fake training node that publishes synthetic metrics (try the dashboard without training)");
        demo.Options.Add(port);
        demo.Options.Add(ranks);
        demo.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(ranks);
            if (n is < 1 or > 64) { Console.Error.WriteLine($"error: --ranks {n}: must be 1..64"); return 2; }
            var system = Akka.Actor.ActorSystem.Create("actorface",
                MonitorNode.ClusterConfig("127.0.0.1", Port(parse.GetValue(port)), ["worker"], [], "WARNING"));
            var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
            await Akka.Cluster.Cluster.Get(system).JoinAsync(self, ct);
            Console.WriteLine($"demo node up; watch it with: actorface monitor --seed-nodes {self}");
            await DemoPublisher.RunAsync(system, n, TimeSpan.FromSeconds(1), ct);
            await system.Terminate();
            return 0;
        });
        return demo;
    }

    private static int Port(int port) => port is >= 0 and <= 65535 ? port : throw new ArgumentException($"--port {port}: must be 0..65535");

    private static TimeSpan Seconds(string name, double value) =>
        value > 0 && double.IsFinite(value) ? TimeSpan.FromSeconds(value) : throw new ArgumentException($"{name} {value}: must be a positive number of seconds");

    /// <summary>The credentials of a protected cluster: --secret-file (or the environment variable) and/or --tls files.</summary>
    static ClusterSecurity Security(string? secretFile, string[]? tlsFiles)
    {
        var secret = !string.IsNullOrWhiteSpace(secretFile) ? ClusterSecret.FromFile(secretFile) : ClusterSecret.FromEnvironment();
        var files = tlsFiles is { Length: 3 } t ? TlsCredentials.FromPemFiles(t[0], t[1], t[2]) : null;
        return new ClusterSecurity(secret, files, allowInsecure: false);
    }
}
