using System.Collections;
using System.Text.Json;
using ActorFace.Actors.Settings;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Tests.Configuration;

public sealed class TrainingConfigLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-config-");
    private static readonly IDictionary NoEnv = new Hashtable();
    private static readonly string[] Required = ["num_classes=10", "num_image=100", "dataset=synthetic"];

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ReferenceDefaultsEqualTheRecordDefaults()
    {
        var loaded = TrainingConfigLoader.Load(null, Required, NoEnv).Settings;
        var expected = TrainingSettings.Default with { NumClasses = 10, NumImage = 100, Dataset = "synthetic" };
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(loaded));
        Assert.Equal(new MarginList(1.0, 0.5, 0.0), loaded.MarginList);
        Assert.Equal(0.1, loaded.Lr);
        Assert.Equal(2048, loaded.Seed);
    }

    [Fact]
    public void EverySchemaKeyIsDocumentedInTheReferenceAndViceVersa()
    {
        var reference = Akka.Configuration.ConfigurationFactory.ParseString(TrainingConfigLoader.ReferenceText());
        var leaves = new List<string>();
        void Walk(Akka.Configuration.Hocon.HoconValue v, string prefix)
        {
            foreach (var (k, child) in v.GetObject().Items)
            {
                var key = prefix.Length == 0 ? k : prefix + "." + k;
                if (child.IsObject()) Walk(child, key); else leaves.Add(key);
            }
        }
        Walk(reference.GetValue("actorface"), "");
        Assert.Equal(SettingsSchema.Keys.Keys.Order(), leaves.Order());
    }

    [Fact]
    public void FileOverlaysReferenceAndSetOverridesEnvironmentOverridesFile()
    {
        var file = Write("job.conf", "actorface { batch_size = 64, network = r18, lr = 0.02, margin_list = [1.0, 0.0, 0.4] }");
        var env = new Hashtable { ["ACTORFACE__LR"] = "0.03", ["ACTORFACE__CLUSTER__MIN_WORKERS"] = "3", ["ACTORFACE_MALLOC"] = "default" };
        var s = TrainingConfigLoader.Load(file, [.. Required, "batch_size=32", "rec=/data//x"], env).Settings;
        Assert.Equal(32, s.BatchSize);
        Assert.Equal("r18", s.Network);
        Assert.Equal(0.03, s.Lr);
        Assert.Equal(3, s.Cluster.MinWorkers);
        Assert.Equal("/data//x", s.Rec);
        Assert.Equal(new MarginList(1.0, 0.0, 0.4), s.MarginList);
        Assert.Equal("job", s.ConfigName);
        Assert.Equal(Path.Combine("work_dirs", "job"), s.OutputDirectory);
    }

    [Fact]
    public void UnknownKeyInFileIsAnErrorNamingKeyAndFile()
    {
        var file = Write("typo.conf", "actorface { batch_sise = 64 }");
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(file, Required, NoEnv));
        Assert.Contains("actorface.batch_sise", e.Message);
        Assert.Contains(file, e.Message);
        Assert.Contains("batch_size", e.Message);
    }

    [Fact]
    public void UnknownNestedKeyAndUnknownTopLevelSectionAreErrors()
    {
        var nested = Write("nested.conf", "actorface.cluster { workers = 2 }");
        Assert.Contains("actorface.cluster.workers", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(nested, Required, NoEnv)).Message);
        var top = Write("top.conf", "trainer { lr = 1 }");
        Assert.Contains("'trainer'", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(top, Required, NoEnv)).Message);
    }

    [Fact]
    public void WrongTypeIsAnErrorNamingKeyAndSource()
    {
        var file = Write("types.conf", "actorface { batch_size = sixty }");
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(file, Required, NoEnv));
        Assert.Contains("actorface.batch_size", e.Message);
        Assert.Contains(file, e.Message);
        Assert.Contains("integer", e.Message);

        var env = new Hashtable { ["ACTORFACE__FP16"] = "maybe" };
        var e2 = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, Required, env));
        Assert.Contains("ACTORFACE__FP16", e2.Message);

        var e3 = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Required, "margin_list=0.5"], NoEnv));
        Assert.Contains("--set margin_list=0.5", e3.Message);
        var e4 = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Required, "cluster.join_timeout=soon"], NoEnv));
        Assert.Contains("duration", e4.Message);
    }

    [Fact]
    public void OutOfRangeValueNamesTheLayerThatSetIt()
    {
        var file = Write("range.conf", "actorface { optimizer = lamb }");
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(file, Required, NoEnv));
        Assert.Contains(file, e.Message);
        Assert.Contains("actorface.optimizer", e.Message);

        var missing = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, ["num_image=100", "dataset=synthetic"], NoEnv));
        Assert.Contains("actorface.num_classes", missing.Message);
        var dali = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, [.. Required, "dali=true"], NoEnv));
        Assert.Contains("DALI", dali.Message);
    }

    [Fact]
    public void MalformedSetAndMissingFileAreClearErrors()
    {
        Assert.Contains("key=value", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(null, ["lr"], NoEnv)).Message);
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(Path.Combine(_dir, "nope.conf"), null, NoEnv)).Message);
    }

    [Fact]
    public void AkkaSectionPassesThrough()
    {
        var file = Write("akka.conf", "akka.loglevel = DEBUG\nactorface.network = mbf");
        var loaded = TrainingConfigLoader.Load(file, Required, NoEnv);
        Assert.Equal("DEBUG", loaded.Hocon.GetString("akka.loglevel"));
        Assert.Equal("mbf", loaded.Settings.Network);
    }
}
