using ActorFace.Actors.Coordination;
using ActorFace.Actors.Settings;

namespace ActorFace.Actors.Tests.Settings;

/// <summary>The start-of-run dump is derived from the reference file: its top-level keys, in its order.</summary>
public sealed class SettingsDumpTests
{
    [Fact]
    public void EveryBoundTopLevelKeyIsListedInReferenceOrderThenTheStepPlan()
    {
        var s = TrainingSettings.Default with { NumClasses = 10, NumImage = 100, ValTargets = ["lfw", "cfp_fp"] };
        var plan = new StepPlan(100, 2, s.BatchSize, s.NumEpoch, s.NumImage, s.WarmupEpoch);
        var entries = SettingsDump.Entries(s, plan).ToList();
        var expectedKeys = SettingsSchema.Ordered.Where(k => !k.Contains('.') && k is not ("dali" or "dali_aug" or "init_backbone" or "init_partial_fc"));
        Assert.Equal([.. expectedKeys, "world_size", "total_batch_size", "warmup_step", "total_step"], entries.Select(e => e.Key));
        var values = entries.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(new MarginList(1.0, 0.5, 0.0), values["margin_list"]);
        Assert.Equal(Path.Combine("work_dirs", "actorface"), values["output"]);
        Assert.Equal("[lfw, cfp_fp]", values["val_targets"]);
        Assert.Equal("30s", values["stop_grace_period"]);
        Assert.Equal(128, values["batch_size"]);
    }
}
