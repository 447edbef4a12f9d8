using System.Globalization;
using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

public class PrometheusExporterTests
{
    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>A small parser for the text exposition format: checks every sample follows its family's TYPE line.</summary>
    internal static (Dictionary<string, string> Types, List<Sample> Samples) Parse(string text)
    {
        var types = new Dictionary<string, string>();
        var samples = new List<Sample>();
        string? current = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], new[] { "gauge", "counter" });
                Assert.True(types.TryAdd(parts[2], parts[3]), $"family {parts[2]} declared twice");
                current = parts[2];
                continue;
            }
            var i = 0;
            while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
            var name = line[..i];
            Assert.Matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", name);
            Assert.Equal(current, name);
            var labels = new Dictionary<string, string>();
            if (line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var eq = line.IndexOf('=', i);
                    var key = line[i..eq];
                    Assert.Equal('"', line[eq + 1]);
                    var value = new System.Text.StringBuilder();
                    var j = eq + 2;
                    for (; line[j] != '"'; j++)
                    {
                        if (line[j] == '\\')
                        {
                            j++;
                            value.Append(line[j] switch { 'n' => '\n', var c => c });
                        }
                        else value.Append(line[j]);
                    }
                    labels[key] = value.ToString();
                    i = j + 1;
                    if (line[i] == ',') i++;
                }
                i++;
            }
            Assert.Equal(' ', line[i]);
            var raw = line[(i + 1)..];
            var parsed = raw switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(name, labels, parsed));
        }
        return (types, samples);
    }

    [Fact]
    public void RendersParseableFamiliesWithTheSnapshotValues()
    {
        var snapshot = SampleSnapshot.State().Snapshot(SampleSnapshot.Now);
        var (types, samples) = Parse(PrometheusExporter.Render(snapshot));

        double One(string name, params (string K, string V)[] labels) => Assert.Single(samples,
            s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.K, out var v) && v == l.V)).Value;

        var rank1 = snapshot.Workers[1].Latest;
        Assert.Equal(rank1.Loss, One("actorface_worker_loss", ("rank", "1"), ("node", "node-b")));
        Assert.Equal(rank1.GlobalStep, One("actorface_worker_global_step", ("rank", "1")));
        Assert.Equal(rank1.StepTime.AllReduceMs / 1000.0, One("actorface_worker_step_seconds", ("rank", "1"), ("phase", "all_reduce")), 12);
        Assert.Equal(6, samples.Count(s => s.Name == "actorface_worker_step_seconds" && s.Labels["rank"] == "0"));
        Assert.Equal(1, One("actorface_worker_state", ("rank", "0"), ("state", "training")));
        Assert.Equal(2, One("actorface_loader_corrupt_skipped_total", ("rank", "1")));
        Assert.Equal("counter", types["actorface_loader_corrupt_skipped_total"]);
        Assert.Equal(5000, One("actorface_shard_class_start", ("rank", "1")));
        Assert.Equal(2, One("actorface_cluster_generation"));
        Assert.Equal(3, One("actorface_cluster_members", ("status", "Up")));
        Assert.Equal(1, One("actorface_cluster_recoveries_total"));
        Assert.Equal(200, One("actorface_cluster_last_checkpoint_step"));
        Assert.Equal(snapshot.Verification["lfw"].Accuracy, One("actorface_verification_accuracy", ("target", "lfw")));
        Assert.Equal(3, One("actorface_actor_mailbox_depth", ("actor", "akka://actorface/user/loader-0")));
        Assert.Equal(snapshot.ClusterSamplesPerSecond, One("actorface_cluster_samples_per_second"));
    }

    [Fact]
    public void Fp16GradScaleGaugeAppearsOnlyForRanksWithAScaler()
    {
        var state = new MonitorState();
        state.Apply(SampleSnapshot.Worker(0, 10, 3.0) with { GradScale = 32768 }, DateTime.UtcNow);
        state.Apply(SampleSnapshot.Worker(1, 10, 3.0), DateTime.UtcNow);
        var (types, samples) = Parse(PrometheusExporter.Render(state.Snapshot(DateTime.UtcNow)));
        Assert.Equal("gauge", types["actorface_worker_fp16_grad_scale"]);
        var scale = Assert.Single(samples, s => s.Name == "actorface_worker_fp16_grad_scale");
        Assert.Equal("0", scale.Labels["rank"]);
        Assert.Equal(32768, scale.Value);

        var plain = new MonitorState();
        plain.Apply(SampleSnapshot.Worker(0, 10, 3.0), DateTime.UtcNow);
        Assert.DoesNotContain("fp16_grad_scale", PrometheusExporter.Render(plain.Snapshot(DateTime.UtcNow)));
    }

    [Fact]
    public void EscapesLabelsAndWritesSpecialFloats()
    {
        var state = new MonitorState();
        const string node = "odd \"node\" \\ with\nnewline";
        state.Apply(SampleSnapshot.Worker(0, 10, double.NaN, node), DateTime.UtcNow);
        state.Apply(new CoordinatorMetrics("c", 1, [], [], null, 10, 100, double.PositiveInfinity, 0), DateTime.UtcNow);

        var (_, samples) = Parse(PrometheusExporter.Render(state.Snapshot(DateTime.UtcNow)));

        var loss = Assert.Single(samples, s => s.Name == "actorface_worker_loss");
        Assert.Equal(node, loss.Labels["node"]);
        Assert.True(double.IsNaN(loss.Value));
        Assert.Equal(double.PositiveInfinity, Assert.Single(samples, s => s.Name == "actorface_cluster_eta_seconds").Value);
    }
}
