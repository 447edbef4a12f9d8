using System.Globalization;
using ActorFace.Actors.Settings;

namespace ActorFace.Host.Configuration.ArcfaceTorch;

/// <summary>
/// arcface_torch's Python config files as configuration layers: `--config configs/ms1mv3_r50.py` is read as
/// arcface_torch's get_config does — configs/base.py first (the one next to the job file, else a built-in copy of the
/// published base.py), the job file over it — and every `config.key = value` line becomes one layer named after its
/// file and line, so the ordinary validation and binding (one home per key) report errors at the line to fix.
/// Keys that only make sense in arcface_torch (wandb, DALI, save_all_states) are accepted with one notice each
/// saying what ActorFace does instead.
/// </summary>
public static class ArcfaceTorchConfig
{
    private const string BuiltInBaseResource = "ActorFace.Host.Configuration.arcface_torch_base.py";
    public const string BuiltInBaseName = "arcface_torch configs/base.py (built-in copy)";

    private static readonly string[] WandbKeys =
        ["wandb_key", "suffix_run_name", "using_wandb", "wandb_entity", "wandb_project", "wandb_log_all", "save_artifacts", "wandb_resume", "notes"];

    public static bool IsPythonConfig(string path) => path.EndsWith(".py", StringComparison.OrdinalIgnoreCase);

    /// <summary>The published base.py values as ActorFace carries them.</summary>
    public static string BuiltInBaseText()
    {
        using var stream = typeof(ArcfaceTorchConfig).Assembly.GetManifestResourceStream(BuiltInBaseResource)
            ?? throw new InvalidOperationException($"embedded resource {BuiltInBaseResource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The layers of base.py and <paramref name="jobFile"/>, in priority order, plus one (empty) layer carrying the notices.</summary>
    public static List<ConfigLayer> Layers(string jobFile)
    {
        var files = new List<(string Source, string Text)>();
        var sibling = Path.Combine(Path.GetDirectoryName(jobFile) ?? "", "base.py");
        if (!string.Equals(Path.GetFileName(jobFile), "base.py", StringComparison.Ordinal))
            files.Add(File.Exists(sibling) ? (sibling, File.ReadAllText(sibling)) : (BuiltInBaseName, BuiltInBaseText()));
        files.Add((jobFile, File.ReadAllText(jobFile)));

        var layers = new List<ConfigLayer>();
        var ignored = new Dictionary<string, (object Value, string Where)>();
        foreach (var (source, text) in files)
        {
            foreach (var a in PythonConfigFile.Read(source, text))
            {
                var where = $"{source} line {a.Line}";
                if (WandbKeys.Contains(a.Key) || a.Key is "dali" or "dali_aug")
                    ignored[a.Key] = (a.Value, where);
                else
                    layers.Add(ConfigLayer.FromValue(where, SettingsSchema.Root + "." + a.Key, Value(a, where)));
                if (a.Key == "save_all_states")
                    ignored[a.Key] = (a.Value, where);
            }
        }
        layers.Add(new ConfigLayer("arcface_torch compatibility notices", Akka.Configuration.Config.Empty) { Notices = Notices(ignored) });
        return layers;
    }

    private static List<string> Notices(Dictionary<string, (object Value, string Where)> ignored)
    {
        var notices = new List<string>();
        var wandb = WandbKeys.Where(ignored.ContainsKey).ToList();
        if (wandb.Count > 0)
        {
            var on = ignored.TryGetValue("using_wandb", out var u) && u.Value is true;
            notices.Add($"{(on ? "using_wandb = True" : "the wandb_* keys")} ({string.Join(", ", wandb)}) accepted and ignored: ActorFace " +
                        "has no wandb logging; it writes loss, learning_rate, time_for_end and each verification target's accuracy " +
                        "to <output>/tensorboard under arcface_torch's tags, and `actorface monitor` shows the run live (--http for Prometheus)");
        }
        if (ignored.TryGetValue("save_all_states", out var save))
            notices.Add($"save_all_states = {PyRepr.Of(save.Value)} ({save.Where}) changes nothing: ActorFace always writes complete checkpoints of every " +
                        "rank (each epoch, or every checkpoint_every steps), and --resume continues them on any number of ranks");
        var dali = ignored.TryGetValue("dali", out var d) && d.Value is true;
        var daliAug = ignored.TryGetValue("dali_aug", out var da) && da.Value is true;
        if (dali || daliAug)
            notices.Add($"{(dali ? $"dali = True ({d.Where})" : "")}{(dali && daliAug ? ", " : "")}{(daliAug ? $"dali_aug = True ({da.Where})" : "")} " +
                        "accepted: ActorFace has no DALI; it decodes the same train.rec/train.idx with its own loader (num_workers decoding threads " +
                        "per rank, data.prefetch batches ahead) and applies arcface_torch's standard augmentation (random horizontal flip)" +
                        (daliAug ? ", not DALI's extra augmentations" : ""));
        return notices;
    }

    /// <summary>The value for the key's schema type (a string, number, bool or list, quoted when the layer is built);
    /// Python-flavoured errors name the line.</summary>
    private static object Value(PythonAssignment a, string where)
    {
        var value = a.Value;
        if (!SettingsSchema.Keys.TryGetValue(a.Key, out var kind))
            return PyRepr.Of(value); // the unknown key itself is reported by ConfigLayer.Validate
        ConfigException Wrong(string expected) =>
            new($"{where}: config.{a.Key} must be {expected}, got {PyRepr.Of(value)} ({PyRepr.TypeName(value)})");
        switch (kind)
        {
            case ConfigKind.String when a.Key == "output" && value is PyNone:
                return ""; // get_config: None means work_dirs/<config name>
            case ConfigKind.String or ConfigKind.Duration:
                return value is string s ? s : throw Wrong("a string");
            case ConfigKind.Integer:
                return value is long l ? l : throw Wrong("an integer");
            case ConfigKind.Double:
                return Number(value) ?? throw Wrong("a number");
            case ConfigKind.Bool:
                return value is bool b ? b : throw Wrong("True or False");
            case ConfigKind.DoubleList:
            {
                if (value is not PySequence seq) throw Wrong("a tuple or list of numbers");
                var items = seq.Items.Select(Number).ToList();
                return items.Any(i => i is null) ? throw Wrong("a tuple or list of numbers") : items.ToArray();
            }
            case ConfigKind.StringList:
                return value is PySequence names && names.Items.All(i => i is string)
                    ? names.Items.Cast<string>().ToArray()
                    : throw Wrong("a list of strings");
            default:
                throw new ArgumentOutOfRangeException(nameof(a), kind, "unhandled config kind");
        }
    }

    // Strings: the config readers parse numbers from the string, so HOCON's own number syntax never matters.
    private static string? Number(object value) => value switch
    {
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d when double.IsFinite(d) => d.ToString("R", CultureInfo.InvariantCulture),
        _ => null,
    };
}
