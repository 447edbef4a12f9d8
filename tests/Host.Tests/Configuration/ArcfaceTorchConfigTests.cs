using System.Collections;
using System.Text.Json;
using ActorFace.Actors.Settings;
using ActorFace.Host.Configuration;
using ActorFace.Model.Backbones;

namespace ActorFace.Host.Tests.Configuration;

/// <summary>
/// Every published arcface_torch job config (arcface_torch_configs/*.py, written in the reference's format with the
/// published values) loads through `--config job.py` over the built-in base.py, binds to the values the reference
/// would run with, and lands on the same settings as its HOCON port in hocon/ where one exists.
/// </summary>
public sealed class ArcfaceTorchConfigTests
{
    private static readonly IDictionary NoEnv = new Hashtable();
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "Configuration", "arcface_torch_configs");

    private sealed record Expected(string Name, string Network, (double M1, double M2, double M3) Margin, double SampleRate,
        double Interclass, bool Fp16, int BatchSize, int GradientAcc, string Optimizer, double Lr, double WeightDecay, int Verbose,
        string Rec, int NumClasses, long NumImage, int NumEpoch, int WarmupEpoch, string[] ValTargets);

    private static Expected Row(string name, string network, (double, double, double) margin, double sampleRate, double interclass,
        bool fp16, int batch, int gradAcc, string optimizer, double lr, double wd, int verbose, string rec, int classes, long images,
        int epochs, int warmup, string[] valTargets) =>
        new(name, network, margin, sampleRate, interclass, fp16, batch, gradAcc, optimizer, lr, wd, verbose, rec, classes, images, epochs, warmup, valTargets);

    // The published values (warmup_epoch as the files compute it, e.g. num_epoch // 10; base.py fills the rest).
    private static readonly Expected[] Published =
    [
        Row("3millions", "mbf", (1.0, 0.0, 0.4), 0.1, 0.0, true, 512, 1, "sgd", 0.1, 0.0005, 2000, "synthetic", 300000, 100000, 30, -1, []),
        Row("glint360k_mbf", "mbf", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/glint360k", 360232, 17091657, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("glint360k_r100", "r100", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/glint360k", 360232, 17091657, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("glint360k_r50", "r50", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/glint360k", 360232, 17091657, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv2_mbf", "mbf", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/faces_emore", 85742, 5822653, 40, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv2_r100", "r100", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/faces_emore", 85742, 5822653, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv2_r50", "r50", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/faces_emore", 85742, 5822653, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv3_mbf", "mbf", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/ms1m-retinaface-t1", 93431, 5179510, 40, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv3_r100", "r100", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/ms1m-retinaface-t1", 93431, 5179510, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv3_r50", "r50", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/ms1m-retinaface-t1", 93431, 5179510, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("ms1mv3_r50_onegpu", "r50", (1.0, 0.5, 0.0), 1.0, 0.0, true, 128, 1, "sgd", 0.02, 0.0005, 2000, "/train_tmp/ms1m-retinaface-t1", 93431, 5179510, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf12m_conflict_r50", "r50", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M_Conflict", 1017970, 12720066, 20, 2, []),
        Row("wf12m_conflict_r50_pfc03_filter04", "r50", (1.0, 0.0, 0.4), 0.3, 0.4, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M_Conflict", 1017970, 12720066, 20, 2, []),
        Row("wf12m_flip_pfc01_filter04_r50", "r50", (1.0, 0.0, 0.4), 0.1, 0.4, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M_FLIP40", 617970, 12720066, 20, 2, []),
        Row("wf12m_flip_r50", "r50", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M_FLIP40", 617970, 12720066, 20, 2, []),
        Row("wf12m_mbf", "mbf", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/WebFace12M", 617970, 12720066, 20, 0, []),
        Row("wf12m_pfc02_r100", "r100", (1.0, 0.0, 0.4), 0.2, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M", 617970, 12720066, 20, 0, []),
        Row("wf12m_r100", "r100", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M", 617970, 12720066, 20, 0, []),
        Row("wf12m_r50", "r50", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace12M", 617970, 12720066, 20, 0, []),
        Row("wf42m_pfc0008_32gpu_r100", "r100", (1.0, 0.0, 0.4), 0.0, 0.0, true, 512, 1, "sgd", 0.4, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_16gpus_mbf_bs8k", "mbf", (1.0, 0.0, 0.4), 0.2, 0.0, true, 512, 1, "sgd", 0.4, 0.0001, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, []),
        Row("wf42m_pfc02_16gpus_r100", "r100", (1.0, 0.0, 0.4), 0.2, 0.0, true, 256, 1, "sgd", 0.3, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 1, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_16gpus_r50_bs8k", "r50", (1.0, 0.0, 0.4), 0.2, 0.0, true, 512, 1, "sgd", 0.6, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 4, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_32gpus_r50_bs4k", "r50", (1.0, 0.0, 0.4), 0.2, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_8gpus_r50_bs4k", "r50", (1.0, 0.0, 0.4), 0.2, 0.0, true, 512, 1, "sgd", 0.4, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_r100", "r100", (1.0, 0.0, 0.4), 0.2, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_r100_16gpus", "r100", (1.0, 0.0, 0.4), 0.2, 0.0, true, 128, 1, "sgd", 0.2, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_r100_32gpus", "r100", (1.0, 0.0, 0.4), 0.2, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 10000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc02_vit_h", "vit_h", (1.0, 0.0, 0.4), 0.5, 0.0, true, 768, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 16, 2, []),
        Row("wf42m_pfc03_32gpu_r100", "r100", (1.0, 0.0, 0.4), 0.3, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc03_32gpu_r18", "r18", (1.0, 0.0, 0.4), 0.3, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc03_32gpu_r200", "r200", (1.0, 0.0, 0.4), 0.3, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc03_32gpu_r50", "r50", (1.0, 0.0, 0.4), 0.3, 0.0, true, 128, 1, "sgd", 0.4, 0.0005, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 20, 2, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf42m_pfc03_40epoch_64gpu_vit_b", "vit_b_dp005_mask_005", (1.0, 0.0, 0.4), 0.3, 0.0, true, 384, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf42m_pfc03_40epoch_64gpu_vit_l", "vit_l_dp005_mask_005", (1.0, 0.0, 0.4), 0.3, 0.0, true, 384, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf42m_pfc03_40epoch_64gpu_vit_s", "vit_s_dp005_mask_0", (1.0, 0.0, 0.4), 0.3, 0.0, true, 384, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf42m_pfc03_40epoch_64gpu_vit_t", "vit_t_dp005_mask0", (1.0, 0.0, 0.4), 0.3, 0.0, true, 384, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf42m_pfc03_40epoch_8gpu_vit_b", "vit_b_dp005_mask_005", (1.0, 0.0, 0.4), 0.3, 0.0, true, 256, 12, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf42m_pfc03_40epoch_8gpu_vit_t", "vit_t_dp005_mask0", (1.0, 0.0, 0.4), 0.3, 0.0, true, 512, 1, "adamw", 0.001, 0.1, 2000, "/train_tmp/WebFace42M", 2059906, 42474557, 40, 4, []),
        Row("wf4m_mbf", "mbf", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0001, 2000, "/train_tmp/WebFace4M", 205990, 4235242, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf4m_r100", "r100", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace4M", 205990, 4235242, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
        Row("wf4m_r50", "r50", (1.0, 0.0, 0.4), 1.0, 0.0, true, 128, 1, "sgd", 0.1, 0.0005, 2000, "/train_tmp/WebFace4M", 205990, 4235242, 20, 0, ["lfw", "cfp_fp", "agedb_30"]),
    ];

    public static TheoryData<string> PublishedJobs() => new(Published.Select(p => p.Name));

    public static TheoryData<string> JobsWithHoconPort() =>
        new(Published.Select(p => p.Name).Where(n => File.Exists(Path.Combine(AppContext.BaseDirectory, "hocon", n + ".conf"))));

    /// <summary>Loads a job file. ViT names bind once the ViT backbones are registered in BackboneFactory (issue 19,
    /// item 2); until then their network line is checked at its layer and the rest is bound with a stand-in name.</summary>
    private static LoadedConfig Load(string name, out string network)
    {
        var path = Path.Combine(Dir, name + ".py");
        var layer = TrainingConfigLoader.Load(path, ["network=r50"], NoEnv).Layers
            .Last(l => l.Source.StartsWith(path + " line ", StringComparison.Ordinal) && l.Config.HasPath("actorface.network"));
        network = layer.Config.GetString("actorface.network");
        return BackboneFactory.Networks.Contains(network)
            ? TrainingConfigLoader.Load(path, null, NoEnv)
            : TrainingConfigLoader.Load(path, ["network=r50"], NoEnv);
    }

    [Theory]
    [MemberData(nameof(PublishedJobs))]
    public void PublishedJobLoadsWithItsValues(string name)
    {
        var e = Published.Single(p => p.Name == name);
        var loaded = Load(name, out var network);
        var s = loaded.Settings;
        Assert.Equal(e.Network, network);
        if (BackboneFactory.Networks.Contains(network)) Assert.Equal(e.Network, s.Network);
        Assert.Equal(name, s.ConfigName);
        Assert.Equal(new MarginList(e.Margin.M1, e.Margin.M2, e.Margin.M3), s.MarginList);
        Assert.Equal((e.SampleRate, e.Interclass, e.Fp16, e.BatchSize, e.GradientAcc, e.Optimizer),
            (s.SampleRate, s.InterclassFilteringThreshold, s.Fp16, s.BatchSize, s.GradientAcc, s.Optimizer));
        Assert.Equal((e.Lr, e.WeightDecay, e.Verbose, e.Rec), (s.Lr, s.WeightDecay, s.Verbose, s.Rec));
        Assert.Equal((e.NumClasses, e.NumImage, e.NumEpoch, e.WarmupEpoch), (s.NumClasses, s.NumImage, s.NumEpoch, s.WarmupEpoch));
        Assert.Equal(e.ValTargets, s.ValTargets);
        // base.py's remaining defaults, and get_config's output = None -> work_dirs/<config name>.
        Assert.Equal((0.9, 10, 2048, 2, false, 512), (s.Momentum, s.Frequent, s.Seed, s.NumWorkers, s.Resume, s.EmbeddingSize));
        Assert.Equal(Path.Combine("work_dirs", name), s.OutputDirectory);
        // base.py's wandb keys and save_all_states are accepted with one notice each.
        var notices = loaded.Notices.ToList();
        Assert.Contains(notices, n => n.Contains("wandb_key") && n.Contains("tensorboard"));
        Assert.Contains(notices, n => n.StartsWith("save_all_states = False", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(JobsWithHoconPort))]
    public void PublishedJobLandsOnTheSettingsOfItsHoconPort(string name)
    {
        var py = Load(name, out _).Settings;
        var port = TrainingConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "hocon", name + ".conf"), null, NoEnv).Settings;
        // The ports add ActorFace's own deployment keys (device = cuda, ranks per node), which a .py job takes from
        // --set or the command line; every other setting must be identical.
        Assert.Equal("cuda", port.Device);
        Assert.Equal(JsonSerializer.Serialize(port with { Device = py.Device, Cluster = py.Cluster }), JsonSerializer.Serialize(py));
    }

    [Fact]
    public void EveryPortedHoconJobHasItsPythonOriginalHere()
    {
        var ports = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "hocon"), "*.conf")
            .Where(f => File.ReadAllText(f).Contains("Port of arcface_torch configs/", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.True(ports.Count >= 9, $"{ports.Count} ports found");
        Assert.All(ports, p => Assert.True(File.Exists(Path.Combine(Dir, p + ".py")), $"{p}.py is missing"));
    }

    [Fact]
    public void DaliJobIsAcceptedWithANoticeSayingWhatActorFaceDoesInstead()
    {
        var loaded = Load("wf42m_pfc02_vit_h", out _);
        var notice = Assert.Single(loaded.Notices, n => n.Contains("DALI"));
        Assert.Contains("dali = True (" + Path.Combine(Dir, "wf42m_pfc02_vit_h.py") + " line ", notice);
        Assert.Contains("dali_aug = True", notice);
        Assert.Contains("train.rec", notice);
        Assert.Equal(("adamw", 0.001, 16, 2, 768), (loaded.Settings.Optimizer, loaded.Settings.Lr, loaded.Settings.NumEpoch,
            loaded.Settings.WarmupEpoch, loaded.Settings.BatchSize));
    }
}
