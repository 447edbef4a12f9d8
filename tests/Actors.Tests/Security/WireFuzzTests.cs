using System.Runtime.Serialization;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Tests.Monitoring;
using MessagePack;
using Xunit.Abstractions;

namespace ActorFace.Actors.Tests.Security;

/// <summary>Mutation fuzzing of the monitoring wire records (what a remote node may send us).</summary>
public class WireFuzzTests(ITestOutputHelper output)
{
    static readonly Type[] Documented = [typeof(MessagePackSerializationException), typeof(SerializationException)];

    static void Fuzz<T>(ITestOutputHelper output, T sample, int seed, int defaultCases) where T : IMonitorMetric
    {
        var report = new MutationFuzzer(seed).Run([MonitoringSerializer.Serialize(sample)], MutationFuzzer.CaseCount(defaultCases),
            bytes => MonitoringSerializer.Deserialize<T>(bytes), Documented, TimeSpan.FromSeconds(5), maxAllocatedBytes: 64L << 20);
        output.WriteLine($"{typeof(T).Name}: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Fact]
    public void MutatedWorkerMetricsDeserializeOrFailWithADocumentedError() =>
        Fuzz(output, SampleMetrics.Worker(1, 42, generation: 3), seed: 21, defaultCases: 2000);

    [Fact]
    public void MutatedCoordinatorMetricsDeserializeOrFailWithADocumentedError() =>
        Fuzz(output, SampleMetrics.Coordinator(4), seed: 22, defaultCases: 2000);

    [Fact]
    public void MutatedClusterEventsDeserializeOrFailWithADocumentedError() =>
        Fuzz(output, SampleMetrics.Recovery(5), seed: 23, defaultCases: 1000);
}
