using ActorFace.Actors.Settings;
using ActorFace.Actors.Training;
using ActorFace.Host.Commands;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.Train;

/// <summary>
/// Fine-tuning: `init_backbone` (and `init_partial_fc`) are loaded strictly before the first step. A tiny real run with
/// lr = 0 must end with exactly the given weights (an SGD step at lr 0 changes no parameter), from an arcface_torch
/// config file; a file that does not fit the network is bad input (exit code 2, the keys listed).
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class FineTuningTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-finetune-");

    public void Dispose() => _dir.Dispose();

    private const int Classes = 6, Embedding = 32;

    private string Job(string output, string initBackbone, string initPartialFc = "") =>
        WriteFile("job.py", $"""
            from easydict import EasyDict as edict
            config = edict()
            config.network = "mbf"
            config.embedding_size = {Embedding}
            config.lr = 0.0
            config.batch_size = 4
            config.num_classes = {Classes}
            config.num_image = 4 * {Classes}
            config.num_epoch = 1
            config.warmup_epoch = 0
            config.val_targets = []
            config.frequent = 1
            config.num_workers = 1
            config.grad_allreduce_fp16 = False
            config.dataset = "synthetic"
            config.output = "{output}"
            config.init_backbone = "{initBackbone}"
            config.init_partial_fc = "{initPartialFc}"
            """);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Dictionary<string, Tensor> Parameters(string pth, nn.Module shape)
    {
        var names = StateDictEntries.Of(shape).Where(e => e.IsParameter).Select(e => e.Key).ToHashSet();
        return PthArchive.Read(pth).Where(e => names.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value);
    }

    [Fact]
    public async Task TinyRunStartsFromTheGivenBackboneAndCentres()
    {
        var init = Path.Combine(_dir, "pretrained.pth");
        manual_seed(7); // not the job's seed (2048): only the file can give the run these weights
        using var pretrained = BackboneFactory.Create("mbf", Embedding);
        StateDictFile.Save(pretrained, init);
        var centres = Path.Combine(_dir, "centres.pth");
        using var weight = randn(Classes, Embedding);
        PthArchive.Write(centres, [(InitialWeights.PartialFcKey, weight)], [("", 1)]);

        var output = Path.Combine(_dir, "out");
        using var run = new ActorfaceProcess("train", "--config", Job(output, init, centres), "--set", "synthetic.val_pairs=0",
            "--set", "cluster.join_timeout=60s");
        Assert.True(await run.WaitAsync(TimeSpan.FromMinutes(4)) == 0, run.Output);
        Assert.Contains($"init_backbone: {init} matches mbf (embedding {Embedding}", run.Output);
        Assert.Contains($"init_partial_fc: {centres} holds the centres of all {Classes} classes", run.Output);
        Assert.Contains("config: the wandb_* keys", run.Output); // base.py's, from the built-in copy
        // The run's TensorBoard file carries arcface_torch's CallBackLogging tags (the ETA included).
        var events = File.ReadAllBytes(Assert.Single(Directory.GetFiles(Path.Combine(output, "tensorboard"), "events.out.tfevents.*")));
        var text = System.Text.Encoding.ASCII.GetString(events);
        Assert.All(new[] { "time_for_end", "learning_rate", "loss" }, tag => Assert.Contains(tag, text));

        var expected = Parameters(init, pretrained);
        var actual = Parameters(Path.Combine(output, "backbone.pth"), pretrained);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, t) in expected)
            Assert.True(Same(t, actual[key]), $"{key} differs from init_backbone");
        manual_seed(2048);
        using var seeded = BackboneFactory.Create("mbf", Embedding);
        Assert.False(Same(StateDictEntries.Of(seeded).First(e => e.IsParameter).Tensor, expected.First().Value));

        // The final checkpoint's shards hold the given centres, each rank its rows.
        var shards = Directory.GetFiles(Path.Combine(output, "checkpoints"), "shard.afta", SearchOption.AllDirectories).Order().ToList();
        Assert.Equal(2, shards.Count);
        foreach (var path in shards)
        {
            using var state = PartialFCShard.ReadState(path);
            using var rows = weight.narrow(0, state.Layout.ClassStart, state.Layout.NumLocal);
            Assert.True(Same(rows, state.Weight), $"{path}: centres differ from init_partial_fc");
        }
    }

    [Fact]
    public void ABackboneFileThatDoesNotFitIsBadInputListingTheKeys()
    {
        var wrong = Path.Combine(_dir, "wrong.pth");
        using (var a = zeros(8, 3, 3, 3))
        using (var b = zeros(3))
            PthArchive.Write(wrong, [("conv1.weight", a), ("fc.bias", b)], [("", 1)]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = TrainCommand.Run(Job(Path.Combine(_dir, "out"), wrong), ["synthetic.val_pairs=0"], stdout, stderr);
        var err = stderr.ToString();
        Assert.Equal(2, code);
        Assert.StartsWith($"error: init_backbone: {wrong}: state_dict does not match", err);
        Assert.Contains(": 333 missing key(s): layers.0.layers.0.weight [128, 3, 3, 3], ", err);
        Assert.Contains("2 unexpected key(s): conv1.weight [8, 3, 3, 3], fc.bias [3]", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out", "checkpoints")));
    }

    [Fact]
    public void CentresOfTheWrongShapeAreBadInput()
    {
        var backbone = Path.Combine(_dir, "ok.pth");
        using (var net = BackboneFactory.Create("mbf", Embedding)) StateDictFile.Save(net, backbone);
        var centres = Path.Combine(_dir, "centres.pth");
        using (var w = zeros(Classes + 1, Embedding)) PthArchive.Write(centres, [("weight", w)], [("", 1)]);
        var stderr = new StringWriter();
        Assert.Equal(2, TrainCommand.Run(Job(Path.Combine(_dir, "out"), backbone, centres), ["synthetic.val_pairs=0"], new StringWriter(), stderr));
        Assert.Equal($"error: {centres}: 'weight' has shape [{Classes + 1}, {Embedding}], the job needs [{Classes}, {Embedding}] (num_classes, embedding_size)",
            stderr.ToString().Trim());
    }

    [Fact]
    public void RowsOfEachRankAreItsClassRange()
    {
        var path = Path.Combine(_dir, "c.pth");
        using var w = arange(10 * 4, dtype: ScalarType.Float32).reshape(10, 4);
        PthArchive.Write(path, [("weight", w)], [("", 1)]);
        using var rows = InitialWeights.PartialFcRows(path, new ShardLayout(10, 3, 1), 4);
        Assert.True(Same(rows, w.narrow(0, 4, 3))); // rank 1 of 3 owns classes 4..6
    }

    [Fact]
    public void ResumeIgnoresTheInitialWeightsAndSaysSo()
    {
        var lines = InitialWeights.Check(TrainingSettings.Default with { Resume = true, InitBackbone = "/nowhere/pretrained.pth", NumClasses = 2, NumImage = 2 });
        Assert.Equal(["init_backbone = /nowhere/pretrained.pth is ignored: resuming from the latest checkpoint, whose weights win"], lines);
        Assert.False(InitialWeights.Applies(TrainingSettings.Default with { Resume = true }, 0));
        Assert.False(InitialWeights.Applies(TrainingSettings.Default, 12)); // a recovered generation restarts from its checkpoint
        Assert.True(InitialWeights.Applies(TrainingSettings.Default, 0));
    }
}
