using ActorFace.Host.Configuration;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

/// <summary>The job key reaches the actor system's config, where MetricsPublisher reads it.</summary>
public class MonitoringSwitchConfigTests
{
    private static readonly string[] Required = ["num_classes=10", "num_image=100", "dataset=synthetic"];

    [Fact]
    public void MonitoringEnabledIsAJobKeyThatReachesTheHocon()
    {
        var on = TrainingConfigLoader.Load(null, Required, new System.Collections.Hashtable());
        Assert.True(on.Hocon.GetBoolean(MonitoringConfig.EnabledKey, false));
        var off = TrainingConfigLoader.Load(null, [.. Required, "monitoring.enabled=false"], new System.Collections.Hashtable());
        Assert.False(off.Hocon.GetBoolean(MonitoringConfig.EnabledKey, true));
        Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Required, "monitoring.enabled=maybe"], new System.Collections.Hashtable()));
    }
}
