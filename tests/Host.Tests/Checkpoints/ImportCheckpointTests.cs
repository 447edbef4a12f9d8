using ActorFace.Actors.Checkpoints;
using ActorFace.Host.Commands;
using ActorFace.Host.Tests.Train;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Model.PartialFC;
using ActorFace.Model.Training;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Host.Tests.Checkpoints;

/// <summary>
/// `import-checkpoint` on files in arcface_torch's checkpoint_gpu_{rank}.pt layout (spec §5.6, written here by
/// <see cref="TorchSaveWriter"/>): two ranks of an SGD run of mbf after epoch 1 (global step 5). The import must carry
/// the backbone, each rank's centres, the momentum of every parameter (mapped by name; the frozen features.weight has
/// none) and the schedule; `train --resume` must then continue it, here on one rank instead of two.
/// </summary>
[Collection(RealProcessCollection.Name)]
public sealed class ImportCheckpointTests : IDisposable
{
    private const int Classes = 10, Embedding = 32, World = 2, Step = 5, Epoch = 1, TotalIters = 10;
    private readonly TempDirectory _dir = new("af-import-");

    public void Dispose() => _dir.Dispose();

    // lr 0 (and a schedule at lr 0): the resumed steps change no parameter, so the end weights must be the imported ones.
    private string Job(int embedding = Embedding, int classes = Classes, string optimizer = "sgd")
    {
        var path = Path.Combine(_dir, $"job_{embedding}_{classes}_{optimizer}.py");
        File.WriteAllText(path, $"""
            from easydict import EasyDict as edict
            config = edict()
            config.network = "mbf"
            config.embedding_size = {embedding}
            config.lr = 0.0
            config.batch_size = 4
            config.num_classes = {classes}
            config.num_image = 40
            config.num_epoch = 2
            config.warmup_epoch = 0
            config.val_targets = []
            config.frequent = 1
            config.num_workers = 1
            config.grad_allreduce_fp16 = False
            config.dataset = "synthetic"
            config.optimizer = "{optimizer}"
            """);
        return path;
    }

    private sealed record Reference(string Directory, Dictionary<string, Tensor> Parameters, Dictionary<string, Tensor> Momentum, Tensor Centres, Tensor CentreMomentum);

    /// <summary>Writes checkpoint_gpu_{0,1}.pt as train_v2.py saves them at the end of epoch 0 with save_all_states.</summary>
    private Reference WriteReference()
    {
        var dir = Path.Combine(_dir, "arcface_torch_run");
        Directory.CreateDirectory(dir);
        manual_seed(11);
        var backbone = BackboneFactory.Create("mbf", Embedding);
        var entries = StateDictEntries.Of(backbone);
        var parameters = entries.Where(e => e.IsParameter).ToList(); // optimiser ids 0..P-1 in this order, the centres P
        // A parameter without optimiser state (as arcface_torch's frozen features.weight of the IResNets): ids keep counting.
        var frozen = new HashSet<string> { parameters[3].Key };
        var momentum = parameters.Where(p => !frozen.Contains(p.Key)).ToDictionary(p => p.Key, p => randn_like(p.Tensor));
        var centres = randn(Classes, Embedding);
        var centreMomentum = randn(Classes, Embedding);
        PyDict Group(IEnumerable<long> ids) => new([
            ("lr", 0.0), ("momentum", 0.9), ("dampening", 0L), ("weight_decay", 5e-4), ("nesterov", false), ("maximize", false),
            ("foreach", null), ("differentiable", false), ("fused", null), ("initial_lr", 0.0), ("params", ids.Select(i => (object?)i).ToList()),
        ]);
        for (var rank = 0; rank < World; rank++)
        {
            var layout = new ShardLayout(Classes, World, rank);
            var state = parameters.Select((p, id) => (p, id)).Where(x => momentum.ContainsKey(x.p.Key))
                .Select(x => ((object)(long)x.id, (object?)new PyDict([("momentum_buffer", momentum[x.p.Key])])))
                .Append(((object)(long)parameters.Count, new PyDict([("momentum_buffer", centreMomentum.narrow(0, layout.ClassStart, layout.NumLocal))])))
                .ToList();
            var checkpoint = new PyDict([
                ("epoch", Epoch),
                ("global_step", Step),
                ("state_dict_backbone", new PyDict(entries.Select(e => ((object)e.Key, (object?)e.Tensor)).ToList(), StateDictEntries.ModuleVersions(backbone))),
                ("state_dict_softmax_fc", new PyDict([("weight", centres.narrow(0, layout.ClassStart, layout.NumLocal))], [("", 1), ("margin_softmax", 1)])),
                ("state_optimizer", new PyDict([
                    ("state", new PyDict(state)),
                    ("param_groups", new List<object?> { Group(Enumerable.Range(0, parameters.Count).Select(i => (long)i)), Group([parameters.Count]) }),
                ])),
                ("state_lr_scheduler", new PyDict([
                    ("base_lrs", new List<object?> { 0.0, 0.0 }), ("last_epoch", Step), ("verbose", false), ("_step_count", Step + 1),
                    ("_get_lr_called_within_step", false), ("_last_lr", new List<object?> { 0.0, 0.0 }), ("total_iters", TotalIters),
                    ("power", 1.0), ("warmup_iters", 0),
                ])),
            ]);
            TorchSaveWriter.Save(Path.Combine(dir, $"checkpoint_gpu_{rank}.pt"), checkpoint);
        }
        // Copies: the module's own tensors go when the module is collected.
        return new Reference(dir, parameters.ToDictionary(p => p.Key, p => p.Tensor.detach().clone()), momentum, centres, centreMomentum);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private (int Code, string Out, string Err) Import(string from, string job, string output)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = ImportCheckpointCommand.Run(from, job, [], output, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void ImportCarriesWeightsCentresMomentumAndSchedulePerRank()
    {
        var reference = WriteReference();
        var output = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = Import(reference.Directory, Job(), output);
        Assert.True(code == 0, stderr);
        Assert.Contains($"imported step {Step} (epoch {Epoch}, {World} rank(s))", stdout);

        var (manifest, manifestPath) = new CheckpointStore(output).Latest() ?? throw new Xunit.Sdk.XunitException("no complete checkpoint");
        Assert.Equal((Step, Epoch, World, 4, Classes, Embedding, "mbf"),
            (manifest.Step, manifest.Epoch, manifest.WorldSize, manifest.BatchSize, manifest.NumClasses, manifest.EmbeddingSize, manifest.Network));
        using var shape = BackboneFactory.Create("mbf", Embedding);
        var trainable = shape.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        for (var rank = 0; rank < World; rank++)
        {
            var dir = CheckpointStore.RankDirectory(manifestPath, manifest, rank);
            var backbone = PthArchive.Read(Path.Combine(dir, "replica", "backbone.pt")).ToDictionary(e => e.Key, e => e.Value);
            foreach (var (key, t) in reference.Parameters) Assert.True(Same(t, backbone[key]), $"rank {rank}: {key}");

            var (meta, tensors) = TensorArchive.Read(Path.Combine(dir, "replica", "trainer.afta"));
            Assert.Equal(("5", "5", "10", "0", "Sgd", trainable.Count.ToString()), (meta["global_step"], meta["scheduler.last_epoch"],
                meta["scheduler.total_iters"], meta["scheduler.warmup_iters"], meta["optimizer"], meta["num_parameters"]));
            for (var i = 0; i < trainable.Count; i++)
            {
                if (reference.Momentum.TryGetValue(trainable[i], out var m))
                    Assert.True(Same(m, tensors[$"optimizer.{i}.momentum_buffer"]), $"rank {rank}: momentum of {trainable[i]}");
                else
                    Assert.False(tensors.ContainsKey($"optimizer.{i}.momentum_buffer"), $"rank {rank}: {trainable[i]} has no state in the reference");
            }
            Assert.Equal(reference.Momentum.Count, tensors.Keys.Count(k => k.EndsWith(".momentum_buffer", StringComparison.Ordinal)));

            using var shard = PartialFCShard.ReadState(Path.Combine(dir, "shard", "shard.afta"));
            Assert.Equal(new ShardLayout(Classes, World, rank), shard.Layout);
            Assert.True(Same(reference.Centres.narrow(0, shard.Layout.ClassStart, shard.Layout.NumLocal), shard.Weight));
            Assert.True(Same(reference.CentreMomentum.narrow(0, shard.Layout.ClassStart, shard.Layout.NumLocal), shard.OptimizerState["momentum_buffer"]));
        }
    }

    [Fact]
    public async Task ImportedRunResumesOnOneRankInsteadOfTwo()
    {
        var reference = WriteReference();
        var output = Path.Combine(_dir, "out");
        var job = Job();
        Assert.Equal(0, Import(reference.Directory, job, output).Code);

        using var run = new ActorfaceProcess("train", "--config", job, "--output", output, "--resume", "--workers-per-node", "1",
            "--set", "synthetic.val_pairs=0", "--set", "cluster.join_timeout=60s");
        Assert.True(await run.WaitAsync(TimeSpan.FromMinutes(4)) == 0, run.Output);
        // 5 steps of 2 x 4 samples are 10 steps of 1 x 4: the run continues at step 10 of 20.
        Assert.Contains($"starting from checkpoint step {Step} (world {World}) as step 10", run.Output);
        Assert.Contains("Global Step: 20 ", run.Output);
        Assert.DoesNotContain("Global Step: 10 ", run.Output);

        var end = PthArchive.Read(Path.Combine(output, "backbone.pth")).ToDictionary(e => e.Key, e => e.Value);
        foreach (var (key, t) in reference.Parameters) Assert.True(Same(t, end[key]), $"{key} was not carried over");
        var (manifest, manifestPath) = new CheckpointStore(output).Latest()!.Value;
        Assert.Equal((20L, 1), (manifest.Step, manifest.WorldSize));
        using var shard = PartialFCShard.ReadState(Path.Combine(CheckpointStore.RankDirectory(manifestPath, manifest, 0), "shard", "shard.afta"));
        Assert.True(Same(reference.Centres, shard.Weight), "the centres were not carried over");
    }

    [Fact]
    public void ABackboneThatDoesNotFitTheJobIsBadInputAndLeavesNothingBehind()
    {
        var reference = WriteReference();
        var output = Path.Combine(_dir, "out");
        var (code, _, err) = Import(reference.Directory, Job(embedding: 64), output);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {Path.Combine(reference.Directory, "checkpoint_gpu_0.pt")}: state_dict_backbone (network = mbf, embedding_size = 64): " +
                          "state_dict does not match MobileFaceNet: ", err);
        Assert.Contains("mis-shaped key(s): ", err);
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoints")));
    }

    [Fact]
    public void AFailureAfterTheFirstRankRemovesWhatWasWritten()
    {
        var reference = WriteReference();
        File.WriteAllText(Path.Combine(reference.Directory, "checkpoint_gpu_1.pt"), "not a checkpoint");
        var output = Path.Combine(_dir, "out");
        var (code, stdout, err) = Import(reference.Directory, Job(), output);
        Assert.Equal(2, code);
        Assert.Contains("rank 0: backbone", stdout); // rank 0 was written ...
        Assert.Contains("checkpoint_gpu_1.pt: not a zip-format PyTorch file", err);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(output, "checkpoints"))); // ... and removed again
    }

    [Fact]
    public void WrongClassCountOrAMissingRankIsBadInput()
    {
        var reference = WriteReference();
        var (code, _, err) = Import(reference.Directory, Job(classes: 12), Path.Combine(_dir, "out12"));
        Assert.Equal(2, code);
        Assert.Contains("rank 0 holds 5 class centres from class 0; num_classes = 12 over 2 ranks gives it 6 from class 0", err);

        File.Delete(Path.Combine(reference.Directory, "checkpoint_gpu_0.pt"));
        (code, _, err) = Import(reference.Directory, Job(), Path.Combine(_dir, "out"));
        Assert.Equal(2, code);
        Assert.Contains("checkpoint_gpu_0.pt missing: every rank's file is needed", err);
    }

    [Fact]
    public void APickleNamingAnyOtherPythonGlobalIsRefused()
    {
        var dir = Path.Combine(_dir, "evil");
        Directory.CreateDirectory(dir);
        TorchSaveWriter.Save(Path.Combine(dir, "checkpoint_gpu_0.pt"), new PyDict([("epoch", new PyGlobal("posix", "system"))]));
        var (code, _, err) = Import(dir, Job(), Path.Combine(_dir, "out"));
        Assert.Equal(2, code);
        Assert.Contains("the pickle references the Python global 'posix.system'", err);
        Assert.Contains("refusing to load it", err);
    }

    [Fact]
    public void AdamWMomentsAndStepCountsAreCarriedToo()
    {
        // torch >= 1.12 saves AdamW's step as a float32 scalar tensor; betas mark the group as AdamW.
        var dir = Path.Combine(_dir, "adamw_run");
        Directory.CreateDirectory(dir);
        manual_seed(3);
        using var backbone = BackboneFactory.Create("mbf", Embedding);
        var entries = StateDictEntries.Of(backbone);
        var parameters = entries.Where(e => e.IsParameter).ToList();
        var expAvg = parameters.Select(p => randn_like(p.Tensor)).ToList();
        var centres = randn(Classes, Embedding);
        var centreAvg = randn(Classes, Embedding);
        PyDict Group(IEnumerable<long> ids) => new([
            ("lr", 0.001), ("betas", new PyTuple(0.9, 0.999)), ("eps", 1e-8), ("weight_decay", 0.1), ("amsgrad", false),
            ("initial_lr", 0.001), ("params", ids.Select(i => (object?)i).ToList()),
        ]);
        PyDict Moments(Tensor avg) => new([("step", tensor(7.0f)), ("exp_avg", avg), ("exp_avg_sq", avg.abs())]);
        for (var rank = 0; rank < World; rank++)
        {
            var layout = new ShardLayout(Classes, World, rank);
            var state = expAvg.Select((t, id) => ((object)(long)id, (object?)Moments(t)))
                .Append(((object)(long)parameters.Count, Moments(centreAvg.narrow(0, layout.ClassStart, layout.NumLocal)))).ToList();
            TorchSaveWriter.Save(Path.Combine(dir, $"checkpoint_gpu_{rank}.pt"), new PyDict([
                ("epoch", Epoch), ("global_step", Step),
                ("state_dict_backbone", new PyDict(entries.Select(e => ((object)e.Key, (object?)e.Tensor)).ToList(), StateDictEntries.ModuleVersions(backbone))),
                ("state_dict_softmax_fc", new PyDict([("weight", centres.narrow(0, layout.ClassStart, layout.NumLocal))], [("", 1)])),
                ("state_optimizer", new PyDict([("state", new PyDict(state)),
                    ("param_groups", new List<object?> { Group(Enumerable.Range(0, parameters.Count).Select(i => (long)i)), Group([parameters.Count]) })])),
                ("state_lr_scheduler", new PyDict([("base_lrs", new List<object?> { 0.001, 0.001 }), ("last_epoch", Step),
                    ("_last_lr", new List<object?> { 0.0005, 0.0005 }), ("total_iters", TotalIters), ("power", 1.0), ("warmup_iters", 0)])),
            ]));
        }
        var output = Path.Combine(_dir, "out");
        var (code, _, err) = Import(dir, Job(optimizer: "adamw"), output);
        Assert.True(code == 0, err);
        Assert.Equal(2, Import(dir, Job(optimizer: "sgd"), Path.Combine(_dir, "out-sgd")).Code); // state kind must match the job

        var (manifest, manifestPath) = new CheckpointStore(output).Latest()!.Value;
        var byName = parameters.Select((p, i) => (p.Key, i)).ToDictionary(x => x.Key, x => x.i);
        var trainable = backbone.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        for (var rank = 0; rank < World; rank++)
        {
            var rankDir = CheckpointStore.RankDirectory(manifestPath, manifest, rank);
            var (meta, tensors) = TensorArchive.Read(Path.Combine(rankDir, "replica", "trainer.afta"));
            Assert.Equal(("AdamW", "0.001", "0.0005"), (meta["optimizer"], meta["scheduler.base_lr"], meta["scheduler.last_lr"]));
            for (var i = 0; i < trainable.Count; i++)
            {
                var avg = expAvg[byName[trainable[i]]];
                Assert.True(Same(avg, tensors[$"optimizer.{i}.exp_avg"]), trainable[i]);
                Assert.True(Same(avg.abs(), tensors[$"optimizer.{i}.exp_avg_sq"]), trainable[i]);
                Assert.Equal(7.0, tensors[$"optimizer.{i}.step"].item<double>());
            }
            using var shard = PartialFCShard.ReadState(Path.Combine(rankDir, "shard", "shard.afta"));
            Assert.True(Same(centreAvg.narrow(0, shard.Layout.ClassStart, shard.Layout.NumLocal), shard.OptimizerState["exp_avg"]));
            Assert.Equal(7.0, shard.OptimizerState["step"].to_type(ScalarType.Float64).item<double>());
        }
    }
}
