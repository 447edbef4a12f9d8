using System.Collections;
using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Settings;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Tests.Configuration;

/// <summary>The checks derived from actorface-reference.conf (issue 15 item 2), as a user meets them.</summary>
public sealed class DerivedSchemaTests
{
    static readonly IDictionary NoEnv = new Hashtable();
    static readonly string[] Required = ["num_classes=10", "num_image=100", "dataset=synthetic"];

    static ConfigException Refused(params string[] sets) =>
        Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Required, .. sets], NoEnv));

    [Fact]
    public void TypesComeFromTheFormOfTheDefaults()
    {
        Assert.Equal(ConfigKind.Integer, SettingsSchema.Keys["num_image"]);
        Assert.Equal(ConfigKind.Double, SettingsSchema.Keys["weight_decay"]); // 5e-4
        Assert.Equal(ConfigKind.Double, SettingsSchema.Keys["dropout"]);      // 0.0
        Assert.Equal(ConfigKind.Bool, SettingsSchema.Keys["monitoring.enabled"]); // on
        Assert.Equal(ConfigKind.Duration, SettingsSchema.Keys["cluster.join_timeout"]);
        Assert.Equal(ConfigKind.DoubleList, SettingsSchema.Keys["margin_list"]);
        Assert.Equal(ConfigKind.StringList, SettingsSchema.Keys["val_targets"]); // []
        Assert.Equal(ConfigKind.String, SettingsSchema.Keys["cluster.hostname"]);
        Assert.Equal(ConfigKind.String, SettingsSchema.Keys["network"]);
    }

    [Fact]
    public void AllowedValuesAndRangesComeFromTheAnnotationsAboveTheKeys()
    {
        Assert.Equal(["sgd", "adamw"], SettingsSchema.Allowed["optimizer"]);
        Assert.Equal(["auto", "nccl", "tcp", "local"], SettingsSchema.Allowed["collective"]);
        Assert.Equal(["skip", "fail"], SettingsSchema.Allowed["data.bad_records"]);
        Assert.Equal(6, SettingsSchema.Allowed.Count);
        Assert.Equal(17, SettingsSchema.Ranges.Count);
        Assert.Equal(new SettingRange("warmup_epoch", -1, 10_000, "warm-up epochs; -1, as in arcface_torch's 3millions.py, decays from the first step"),
            SettingsSchema.Ranges.Single(r => r.Key == "warmup_epoch"));
    }

    [Fact]
    public void UnknownKeyIsNamedWithADidYouMean()
    {
        var e = Refused("lerning_rate=0.1");
        Assert.Equal("--set lerning_rate=0.1: unknown key 'actorface.lerning_rate'", e.Message);
        Assert.Contains("(did you mean 'monitoring.stale_after'?)", Refused("monitoring.stale-after=20s").Message);
        Assert.Contains("(did you mean 'cluster.max_workers'?)", Refused("cluster.max_worker=3").Message);
    }

    [Fact]
    public void WrongTypeNamesTheKeyTheSourceAndTheType()
    {
        Assert.Equal("--set monitoring.stale_after=soon: key 'actorface.monitoring.stale_after' must be a duration such as 30s or 2m, got 'soon'",
            Refused("monitoring.stale_after=soon").Message);
        Assert.Equal("--set batch_size=3000000000: key 'actorface.batch_size' must be an integer, got '3000000000'",
            Refused("batch_size=3000000000").Message);
        Assert.Equal("--set num_image=1.5: key 'actorface.num_image' must be an integer, got '1.5'", Refused("num_image=1.5").Message);
    }

    [Fact]
    public void AValueOutsideOneOfListsTheAllowedValues()
    {
        Assert.Equal("--set optimizer=lamb: key 'actorface.optimizer' must be sgd or adamw", Refused("optimizer=lamb").Message);
        Assert.Equal("--set collective=mpi: key 'actorface.collective' must be auto, nccl, tcp or local", Refused("collective=mpi").Message);
        Assert.Equal("--set data.bad_records=drop: key 'actorface.data.bad_records' must be skip or fail", Refused("data.bad_records=drop").Message);
        Assert.StartsWith("--set network=r51: key 'actorface.network' must be one of r18, r34, r50", Refused("network=r51").Message);
    }

    [Fact]
    public void TheMonitoringKeysAreSetLikeAnyOtherAndReachTheActors()
    {
        var loaded = TrainingConfigLoader.Load(null, [.. Required, "monitoring.stale_after=40s", "monitoring.system_stats_interval=2s"], NoEnv);
        var monitoring = MonitoringSettings.From(loaded.Hocon);
        Assert.Equal(TimeSpan.FromSeconds(40), monitoring.StaleAfter);
        Assert.Equal(TimeSpan.FromSeconds(2), monitoring.SystemStatsInterval);
        Assert.True(loaded.Hocon.GetBoolean(MonitoringConfig.EnabledKey));
    }
}
