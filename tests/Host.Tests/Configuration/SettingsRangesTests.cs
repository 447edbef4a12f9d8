using System.Collections;
using ActorFace.Actors.Settings;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Tests.Configuration;

/// <summary>Every size-like key has a documented range (issue 16 item 6): its maximum loads, one more is refused by name.</summary>
public sealed class SettingsRangesTests
{
    static readonly string[] Base = ["dataset=rec", "rec=/data/x", "num_classes=10", "num_image=100"];

    public static TheoryData<string> Keys => new(SettingsSchema.Ranges.Select(r => r.Key));

    [Theory]
    [MemberData(nameof(Keys))]
    public void TheMaximumLoadsAndOneMoreIsRefusedNamingTheRange(string key)
    {
        var range = SettingsSchema.Ranges.Single(r => r.Key == key);
        Assert.True(SettingsSchema.Keys[key] == ConfigKind.Integer, $"{key} is not an integer key");
        TrainingConfigLoader.Load(null, [.. Base, $"{key}={range.Max}"], new Hashtable());
        var over = range.Max + (key == "synthetic.val_pairs" ? 20 : 1); // val_pairs must also be a multiple of 20
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Base, $"{key}={over}"], new Hashtable()));
        Assert.Equal($"--set {key}={over}: key 'actorface.{key}' must be in {range.Min}..{range.Max} ({range.Meaning}), got {over}", e.Message);
    }

    [Fact]
    public void TheReferenceConfigurationListsEveryRange()
    {
        var reference = TrainingConfigLoader.ReferenceText();
        foreach (var range in SettingsSchema.Ranges)
        {
            var name = range.Key.Split('.')[^1];
            Assert.True(reference.Contains($"{range.Min}..{range.Max}") && reference.Contains(name), $"{range.Key} {range.Min}..{range.Max} is not in the reference");
        }
    }
}
