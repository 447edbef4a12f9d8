using System.Collections;
using ActorFace.Host.Commands;
using ActorFace.Host.Configuration;
using ActorFace.Host.Configuration.ArcfaceTorch;

namespace ActorFace.Host.Tests.Configuration;

/// <summary>The Python subset of arcface_torch configs, read without running Python; everything else is an error at its line.</summary>
public sealed class PythonConfigReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-pyconfig-");
    private static readonly IDictionary NoEnv = new Hashtable();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Header = "from easydict import EasyDict as edict\nconfig = edict()\n";

    [Fact]
    public void LiteralsListsTuplesAndArithmeticEvaluateAsInPython()
    {
        var path = Write("job.py", """
            from easydict import EasyDict as edict
            # a comment, then a blank line

            config = edict()
            config.margin_list = 1.0, 0.0, 0.4   # a bare tuple, as Python reads it
            config.network = 'mbf'
            config.num_classes = 30 * 10000
            config.num_image = 2 ** 3 * 100_000 + 7 % 4 - -1
            config.num_epoch = 20
            config.warmup_epoch = config.num_epoch // 10 - 3   # -1: floor division and negatives
            config.lr = 7 / 2 / 10     # true division gives a float
            config.weight_decay = 5e-4
            config.sample_rate = (0.3)
            config.rec = "/train_tmp/a+b's <dir>\\" 'Web' + "Face42M"   # quotes, escapes, HOCON-special characters
            config.val_targets = [
                "lfw",      # one per line
                'cfp_fp',
            ]
            config.output = None
            config.fp16 = True
            config.batch_size = 128 \
                // 2
            """);
        var s = TrainingConfigLoader.Load(path, null, NoEnv).Settings;
        Assert.Equal(new ActorFace.Actors.Settings.MarginList(1.0, 0.0, 0.4), s.MarginList);
        Assert.Equal(("mbf", 300000, 800004L, 20, -1), (s.Network, s.NumClasses, s.NumImage, s.NumEpoch, s.WarmupEpoch));
        Assert.Equal((0.35, 5e-4, 0.3), (s.Lr, s.WeightDecay, s.SampleRate));
        Assert.Equal("/train_tmp/a+b's <dir>\\WebFace42M", s.Rec);
        Assert.Equal(["lfw", "cfp_fp"], s.ValTargets);
        Assert.Equal((true, 64), (s.Fp16, s.BatchSize));
        Assert.Equal(Path.Combine("work_dirs", "job"), s.OutputDirectory);
    }

    [Fact]
    public void BuiltInBaseCarriesThePublishedDefaults()
    {
        // A job that sets only what base.py lacks: every other setting is base.py's, which equals the HOCON reference
        // except base.py's literal output folder.
        var path = Write("only_job_keys.py", Header + """
            config.rec = "/data"
            config.num_classes = 10
            config.num_image = 100
            config.num_epoch = 20
            config.warmup_epoch = 0
            config.val_targets = []
            """);
        var py = TrainingConfigLoader.Load(path, null, NoEnv).Settings;
        var hocon = TrainingConfigLoader.Load(null, ["rec=/data", "num_classes=10", "num_image=100", "output=ms1mv3_arcface_r50"], NoEnv).Settings;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(hocon with { ConfigName = "only_job_keys" }), System.Text.Json.JsonSerializer.Serialize(py));
        Assert.Contains("config.wandb_resume = False", ArcfaceTorchConfig.BuiltInBaseText());
    }

    [Fact]
    public void BasePyNextToTheJobReplacesTheBuiltInOne()
    {
        Write("base.py", Header + "config.batch_size = 64\nconfig.lr = 0.02\n");
        var path = Write("job.py", Header + "config.lr = 0.05\nconfig.rec = '/d'\nconfig.num_classes = 2\nconfig.num_image = 4\n");
        var loaded = TrainingConfigLoader.Load(path, null, NoEnv);
        Assert.Equal((64, 0.05, 128 * 0 + 512), (loaded.Settings.BatchSize, loaded.Settings.Lr, loaded.Settings.EmbeddingSize));
        Assert.Empty(loaded.Notices); // this base.py has no wandb or save_all_states keys
    }

    [Theory]
    [InlineData("import os", 3, "`import os` is not part of an arcface_torch config")]
    [InlineData("config.lr = float('0.1')", 3, "'float' is not something a config value can name")]
    [InlineData("config.rec = os.environ['DATA']", 3, "'os' is not something a config value can name")]
    [InlineData("if True:\n    config.lr = 0.2", 3, "`if True:` is not part of an arcface_torch config")]
    [InlineData("config['lr'] = 0.2", 3, "`config['lr'] = 0.2` is not part of an arcface_torch config")]
    [InlineData("config.lr = 0.1\n  config.fp16 = True", 4, "unexpected indent")]
    [InlineData("config.lr = \"\"\"0.1\"\"\"", 3, "triple-quoted strings are not supported")]
    [InlineData("config.warmup_epoch = config.num_epoch // 10", 3, "config.num_epoch is read before this file sets it")]
    [InlineData("config.num_epoch = 20 // 0", 3, "integer division by zero")]
    [InlineData("config.lr = 'a' * 2", 3, "unsupported operand types for *: 'str' and 'int'")]
    [InlineData("config.lr = 0.1; config.fp16 = True", 3, "unexpected ';'")]
    [InlineData("\nconfig.batch_sise = 64", 4, "unknown key 'actorface.batch_sise' (did you mean 'batch_size'?)")]
    [InlineData("config.batch_size = '128'", 3, "config.batch_size must be an integer, got '128' (str)")]
    [InlineData("config.num_epoch = 20.0", 3, "config.num_epoch must be an integer, got 20.0 (float)")]
    [InlineData("config.margin_list = (1.0, 'x', 0.0)", 3, "config.margin_list must be a tuple or list of numbers")]
    [InlineData("config.val_targets = 'lfw'", 3, "config.val_targets must be a list of strings, got 'lfw' (str)")]
    [InlineData("config.fp16 = 1", 3, "config.fp16 must be True or False, got 1 (int)")]
    [InlineData("config.rec = None", 3, "config.rec must be a string, got None (NoneType)")]
    [InlineData("config.margin_list = (1.0, 0.5)", 3, "key 'actorface.margin_list' must have exactly three numbers")]
    [InlineData("config.sample_rate = 1.5", 3, "key 'actorface.sample_rate' must be in [0, 1]")]
    public void AnythingOutsideTheSubsetIsAnErrorNamingFileAndLine(string body, int line, string message)
    {
        var path = Write("bad.py", Header + body + "\nconfig.rec = '/d'\nconfig.num_classes = 2\nconfig.num_image = 4\n");
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(path, null, NoEnv));
        Assert.StartsWith($"{path} line {line}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ConfigMustBeCreatedFromEasyDict()
    {
        var path = Write("nodict.py", "config = dict()\nconfig.lr = 0.1\n");
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load(path, null, NoEnv));
        Assert.StartsWith($"{path} line 1: config must be created as `config = edict()` after `from easydict import EasyDict as edict`", e.Message);
    }

    [Fact]
    public void TrainRefusesABadLineWithExitCode2AndNoStackTrace()
    {
        var path = Write("job.py", Header + "config.network = \"r50\"\nconfig.lr = lr_from_env()\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(2, TrainCommand.Run(path, [], stdout, stderr));
        Assert.Equal($"error: {path} line 4: 'lr_from_env' is not something a config value can name: only literals, lists, tuples, " +
                     "arithmetic and config.<key> set earlier in the file are read (ActorFace never runs Python)", stderr.ToString().Trim());
    }
}
