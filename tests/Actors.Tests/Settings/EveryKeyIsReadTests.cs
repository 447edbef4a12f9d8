using System.Reflection;
using ActorFace.Actors.Settings;
using Akka.Configuration;

namespace ActorFace.Actors.Tests.Settings;

/// <summary>
/// Each key is declared once (actorface-reference.conf) and used: every key of the reference file is read by a
/// binder, every read key is in the reference file, and every property of the settings records is one key.
/// </summary>
public sealed class EveryKeyIsReadTests
{
    /// <summary>The settings records, with the section of the reference file their properties live in.</summary>
    static readonly (Type Type, string Section)[] Records =
    [
        (typeof(TrainingSettings), ""), (typeof(ClusterSettings), "cluster."), (typeof(SyntheticSettings), "synthetic."),
        (typeof(MonitoringSettings), "monitoring."), (typeof(ClusterSecuritySettings), "cluster."),
    ];

    /// <summary>Read only to refuse them: arcface_torch's DALI switches, which must stay false.</summary>
    static readonly string[] ValidationOnly = ["dali", "dali_aug"];

    sealed class Recording(ISettingsReader inner) : ISettingsReader
    {
        public HashSet<string> Read { get; } = [];
        public T Get<T>(string key) { Read.Add(key); return inner.Get<T>(key); }
        public void Require(string key, bool condition, string message) => inner.Require(key, condition, message);
    }

    [Fact]
    public void TheBindersReadEveryKeyOfTheReferenceFileAndNoOther()
    {
        var job = ConfigurationFactory.ParseString("actorface { num_classes = 10, num_image = 100, dataset = synthetic }");
        var reader = new Recording(ConfigSettingsReader.Over(job));
        TrainingSettingsBinder.Bind(reader, "job");
        MonitoringSettings.Read(reader);
        ClusterSecuritySettings.Read(reader);
        Assert.Equal(SettingsSchema.Keys.Keys.Order(StringComparer.Ordinal), reader.Read.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AKeyMissingFromTheReferenceFileCannotBeRead()
    {
        var reader = ConfigSettingsReader.Over(Config.Empty);
        var e = Assert.Throws<InvalidOperationException>(() => reader.Get<TimeSpan>("monitoring.stale-after"));
        Assert.Contains("not declared in actorface-reference.conf", e.Message);
    }

    [Fact]
    public void EverySettingsPropertyIsOneKeyOfTheReferenceFileWithItsType()
    {
        var mapped = new List<string>();
        foreach (var (type, section) in Records)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                if (type == typeof(TrainingSettings) && property.Name == nameof(TrainingSettings.ConfigName)) continue; // the job file's name
                if (Records.Any(r => r.Type == property.PropertyType)) continue; // a section of its own
                var key = KeyOf(section, property.Name);
                Assert.True(key is not null, $"{type.Name}.{property.Name} has no key in actorface-reference.conf");
                Assert.Equal(KindOf(property.PropertyType), SettingsSchema.Keys[key!]);
                mapped.Add(key!);
            }
        }
        Assert.Equal(SettingsSchema.Keys.Keys.Except(ValidationOnly).Order(StringComparer.Ordinal), mapped.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheDefaultsAreTheReferenceFile()
    {
        var d = TrainingSettings.Default;
        var reference = SettingsSchema.Reference;
        Assert.Equal(reference.GetInt("actorface.batch_size"), d.BatchSize);
        Assert.Equal(reference.GetTimeSpan("actorface.cluster.step_timeout"), d.Cluster.StepTimeout);
        Assert.Equal(reference.GetString("actorface.data.bad_records"), d.DataBadRecords);
        Assert.Equal(new MarginList(1.0, 0.5, 0.0), d.MarginList);
        var monitoring = MonitoringSettings.From(Config.Empty);
        Assert.True(monitoring.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(5), monitoring.SystemStatsInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), monitoring.StaleAfter);
    }

    /// <summary>DataPrefetch → data.prefetch, MaxNonFiniteSteps → max_nonfinite_steps, TlsCertificate →
    /// cluster.tls.certificate: the key of the section whose name, without separators, is the property's.</summary>
    static string? KeyOf(string section, string property) =>
        SettingsSchema.Keys.Keys.SingleOrDefault(k => k.StartsWith(section, StringComparison.Ordinal) &&
            string.Equals(k[section.Length..].Replace("_", "").Replace(".", ""), property, StringComparison.OrdinalIgnoreCase));

    static ConfigKind KindOf(Type t) =>
        t == typeof(int) || t == typeof(long) ? ConfigKind.Integer
        : t == typeof(double) ? ConfigKind.Double
        : t == typeof(bool) ? ConfigKind.Bool
        : t == typeof(string) ? ConfigKind.String
        : t == typeof(TimeSpan) ? ConfigKind.Duration
        : t == typeof(MarginList) ? ConfigKind.DoubleList
        : t == typeof(IReadOnlyList<string>) ? ConfigKind.StringList
        : throw new InvalidOperationException($"no config kind for {t.Name}");
}
