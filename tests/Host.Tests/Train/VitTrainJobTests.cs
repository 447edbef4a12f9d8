using System.Globalization;
using ActorFace.Model.Backbones;

namespace ActorFace.Host.Tests.Train;

/// <summary>`actorface train` with network = vit_t: the tiny synthetic CPU job runs, logs finite losses and writes a
/// backbone.pth that loads back into vit_t (the ViT through the whole pipeline, not only the trainer).</summary>
public sealed class VitTrainJobTests : IDisposable
{
    private readonly TempDirectory _dir = new("actorface-vit-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task VitTTinyJobTrainsAndSavesLoadableWeights()
    {
        var output = Path.Combine(_dir, "run");
        using (var p = new ActorfaceProcess([.. TinyJob.Args(classes: 6, images: 32, checkpointEvery: 4, "network=vit_t"), "--output", output]))
            Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(4)) == 0, p.Output);
        var losses = File.ReadAllLines(Path.Combine(output, "training.log"))
            .Where(l => l.Contains("-Speed "))
            .Select(l => double.Parse(l.Split("Loss ")[1].Split(' ')[0], CultureInfo.InvariantCulture))
            .ToArray();
        Assert.NotEmpty(losses);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));
        using var vit = BackboneFactory.Create("vit_t", numFeatures: 32);
        StateDictFile.Load(vit, Path.Combine(output, "backbone.pth"));
    }
}
