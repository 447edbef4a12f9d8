using ActorFace.Actors.Serialization;
using ActorFace.Actors.Settings;
using Akka.Configuration;

namespace ActorFace.Actors.Hosting;

/// <summary>
/// The one builder of Akka configuration for ActorFace's cluster nodes. <see cref="Node"/> is what every node has
/// (training or monitor): the cluster provider, its endpoint, roles and seeds, MessagePack bindings, monitoring, and
/// <see cref="Security.StrictSerialization"/>; <see cref="Build"/> adds what a training node needs on top. Values are
/// placed into the configuration as typed objects (<see cref="ConfigurationFactory.FromObject"/>, which quotes them),
/// never spliced into HOCON text. Choices, explained in docs/runtime.md: split-brain resolver lease-majority with a
/// lock file (the side holding the lease survives a partition, and the survivor of a 2-node cluster is not downed);
/// a generous heartbeat pause because ranks saturate the CPU; a pinned (dedicated-thread) dispatcher for the ranks,
/// whose collective calls block.
/// </summary>
public static class ClusterHocon
{
    public const string WorkerRole = "worker";
    public const string MonitorRole = "monitor";
    public const string SystemName = "actorface";

    /// <summary>The settings of a training node that depend on nothing.</summary>
    private const string TrainingHocon = """
        akka {
          # Akka's own chatter stays out of the training output; the job's progress lines go to the console
          # directly (coordinator, worker node) and to training.log (rank 0).
          log-dead-letters-during-shutdown = off
          log-dead-letters = 3
          loggers-dispatcher = "akka.actor.default-dispatcher"
          actor.serialize-messages = off
          remote.dot-netty.tcp.maximum-frame-size = 4 MiB
          cluster {
            # seed-nodes stay empty: joined explicitly (TrainingNode.JoinAsync) so that the wait is bounded and explained
            log-info = off
            # a node that (re)joins while another member is unreachable becomes WeaklyUp and can be admitted
            # as a stand-by (TrainingNode.JoinAsync) instead of waiting for the unreachable one to be removed
            allow-weakly-up-members = 7s
            run-coordinated-shutdown-when-down = on
            downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            split-brain-resolver {
              # lease-majority with a lock file in the output folder (FileLease; docs/fault-tolerance.md):
              # keep-oldest/keep-majority down the survivor of a 2-node cluster when the oldest node dies.
              active-strategy = lease-majority
              stable-after = 2s
              down-all-when-unstable = off
              lease-majority {
                lease-implementation = "actorface-file-lease"
                acquire-lease-delay-for-minority = 1s
                role = "worker"
              }
            }
            failure-detector {
              # Fast detection (docs/fault-tolerance.md); an overloaded machine can raise the pause in the
              # job file's akka { cluster.failure-detector { ... } } block (a false positive costs a restart).
              heartbeat-interval = 500ms
              acceptable-heartbeat-pause = 3s
              threshold = 12.0
            }
            singleton.hand-over-retry-interval = 1s
          }
          coordinated-shutdown.run-by-clr-shutdown-hook = on
        }
        actorface-file-lease {
          hold-after-release = 10s
          heartbeat-timeout = 10s
          heartbeat-interval = 1s
          lease-operation-timeout = 5s
        }
        actorface-worker-dispatcher {
          type = PinnedDispatcher
        }
        """;

    /// <summary>The configuration every ActorFace actor system that joins a cluster is created with.</summary>
    public static Config Node(ClusterNode node)
    {
        var tcp = Section(("hostname", node.Hostname), ("port", node.Port));
        var akka = Section(
            ("loglevel", node.LogLevel),
            ("stdout-loglevel", node.LogLevel),
            ("actor", Section(("provider", "cluster"))),
            ("remote", Section(("dot-netty", Section(("tcp", tcp))))),
            ("cluster", Section(("roles", node.Roles.ToArray()), ("seed-nodes", node.SeedNodes.ToArray()))),
            ("coordinated-shutdown", Section(("exit-clr", "off"))));
        return ConfigurationFactory.FromObject(Section(("akka", akka)))
            .WithFallback(ConfigurationFactory.ParseString(WireSerializer.Hocon))
            .WithFallback(Monitoring.MonitoringConfig.Default)
            .WithFallback(Security.StrictSerialization.Config); // no JSON fallback that could build arbitrary types
    }

    /// <summary>A training node (or, with <paramref name="role"/>, another member of a training cluster).</summary>
    public static Config Build(TrainingSettings settings, string role = WorkerRole, string? extraHocon = null)
    {
        var c = settings.Cluster;
        var joinSeconds = Math.Max(1, (int)Math.Ceiling(c.JoinTimeout.TotalSeconds));
        var leasePath = Path.GetFullPath(Path.Combine(settings.OutputDirectory, "cluster.lease")).Replace("\\", "/");
        var config = ConfigurationFactory.FromObject(Section(
                ("akka", Section(("cluster", Section(("shutdown-after-unsuccessful-join-seed-nodes", $"{joinSeconds}s"))))),
                ("actorface-file-lease", Section(("lease-class", typeof(FileLease).AssemblyQualifiedName!), ("path", leasePath)))))
            .WithFallback(ConfigurationFactory.ParseString(TrainingHocon))
            .WithFallback(Node(new ClusterNode(c.Hostname, c.Port, [role])));
        return extraHocon is null ? config : ConfigurationFactory.ParseString(extraHocon).WithFallback(config);
    }

    /// <summary>A HOCON object as <see cref="ConfigurationFactory.FromObject"/> serialises it (keys and strings quoted).</summary>
    private static Dictionary<string, object> Section(params (string Key, object Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
}
