using System.Globalization;
using ActorFace.Actors.Serialization;
using ActorFace.Actors.Settings;
using Akka.Configuration;

namespace ActorFace.Actors.Hosting;

/// <summary>
/// The Akka configuration of a training (or monitoring) process. Choices, explained in docs/runtime.md:
/// split-brain resolver keep-oldest with down-if-alone (the side with the coordinator singleton survives a partition,
/// and a crashed oldest node alone does not take the survivors down with it — plain keep-majority would down the
/// survivor of a 2-node cluster); a generous heartbeat pause because ranks saturate the CPU; MessagePack for the
/// control messages; a pinned (dedicated-thread) dispatcher for the ranks, whose collective calls block.
/// </summary>
public static class ClusterHocon
{
    public const string WorkerRole = "worker";
    public const string MonitorRole = "monitor";
    public const string SystemName = "actorface";

    public static Config Build(TrainingSettings settings, string role = WorkerRole, string? extraHocon = null)
    {
        var c = settings.Cluster;
        var joinSeconds = Math.Max(1, (int)Math.Ceiling(c.JoinTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var hocon = $$"""
            akka {
              # Akka's own chatter stays out of the training output; the job's progress lines go to the console
              # directly (coordinator, worker node) and to training.log (rank 0).
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters-during-shutdown = off
              log-dead-letters = 3
              loggers-dispatcher = "akka.actor.default-dispatcher"
              actor {
                provider = cluster
                serialize-messages = off
              }
              remote.dot-netty.tcp {
                hostname = "{{c.Hostname}}"
                port = {{c.Port}}
                maximum-frame-size = 4 MiB
              }
              cluster {
                seed-nodes = []   # joined explicitly (TrainingNode.JoinAsync) so that the wait is bounded and explained
                roles = [{{role}}]
                log-info = off
                shutdown-after-unsuccessful-join-seed-nodes = {{joinSeconds}}s
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
                    role = "{{WorkerRole}}"
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
              coordinated-shutdown {
                exit-clr = off
                run-by-clr-shutdown-hook = on
              }
            }
            actorface-file-lease {
              lease-class = "{{typeof(FileLease).AssemblyQualifiedName}}"
              path = "{{Path.GetFullPath(Path.Combine(settings.OutputDirectory, "cluster.lease")).Replace("\\", "/")}}"
              hold-after-release = 10s
              heartbeat-timeout = 10s
              heartbeat-interval = 1s
              lease-operation-timeout = 5s
            }
            actorface-worker-dispatcher {
              type = PinnedDispatcher
            }
            """;
        var config = ConfigurationFactory.ParseString(hocon)
            .WithFallback(ConfigurationFactory.ParseString(WireSerializer.Hocon))
            .WithFallback(Monitoring.MonitoringConfig.Default)
            .WithFallback(Security.StrictSerialization.Config); // no JSON fallback that could build arbitrary types
        return extraHocon is null ? config : ConfigurationFactory.ParseString(extraHocon).WithFallback(config);
    }
}
