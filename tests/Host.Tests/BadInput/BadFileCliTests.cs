using ActorFace.Model.Backbones;
using ActorFace.Model.Evaluation;
using SkiaSharp;
using ActorFace.Model.Formats.Images;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ActorFace.Host.Tests.BadInput;

/// <summary>
/// Issue 16, items 11-14: special files, an empty .bin, a truncated .pth and NaN weights given to the real
/// `actorface` process end with exit code 2 and one line naming the file and what is wrong, and nothing is written.
/// </summary>
// One process at a time, but each loads the runtime (and TorchSharp): kept out of the way of the multi-process runs.
[Collection(RealProcessCollection.Name)]
public sealed class BadFileCliTests : IDisposable
{
    readonly TempDirectory dir = new("af-badfile-");

    public void Dispose() => dir.Dispose();

    string Face()
    {
        var path = Path.Combine(dir, "face.png");
        if (!File.Exists(path))
            File.WriteAllBytes(path, ImageCodec.Encode(new RgbImage(112, 112, Enumerable.Range(0, 112 * 112 * 3).Select(i => (byte)(i * 7)).ToArray()),
                SKEncodedImageFormat.Png));
        return path;
    }

    /// <summary>MobileFaceNet weights; <paramref name="edit"/> may break them before they are saved.</summary>
    string Weights(string name, Action<Module<Tensor, Tensor>>? edit = null)
    {
        using var model = BackboneFactory.Create("mbf");
        using (no_grad()) edit?.Invoke(model);
        var path = Path.Combine(dir, name);
        StateDictFile.Save(model, path);
        return path;
    }

    static Task<string> Actorface(params string[] args) => CliRefusal.RunAsync(args);

    [Theory] // item 11: images
    [InlineData("fifo")]
    [InlineData("zero")]
    public async Task AnImageThatIsAFifoOrADevZeroLinkIsRefused(string kind)
    {
        var image = kind == "fifo" ? SpecialFiles.Fifo(dir, "face.jpg") : SpecialFiles.DevZeroLink(dir, "face.jpg");
        var output = await Actorface("embed", "--network", "mbf", "--weights", "unused.pth", image);
        Assert.Contains($"actorface embed: image {image}: is a {(kind == "fifo" ? "FIFO (named pipe)" : "character device (a symbolic link to /dev/zero)")}, not a regular file", output);
    }

    [Theory] // item 11: --weights
    [InlineData("fifo")]
    [InlineData("zero")]
    public async Task WeightsThatAreAFifoOrADevZeroLinkAreRefused(string kind)
    {
        var weights = kind == "fifo" ? SpecialFiles.Fifo(dir, "w.pth") : SpecialFiles.DevZeroLink(dir, "w.pth");
        var output = await Actorface("embed", "--network", "mbf", "--weights", weights, Face());
        Assert.Contains($"actorface embed: weights {weights}: is a ", output);
        Assert.Contains("not a regular file", output);
    }

    [Theory] // item 11: --bin
    [InlineData("fifo")]
    [InlineData("zero")]
    public async Task AVerificationBinThatIsAFifoOrADevZeroLinkIsRefused(string kind)
    {
        var bin = kind == "fifo" ? SpecialFiles.Fifo(dir, "lfw.bin") : SpecialFiles.DevZeroLink(dir, "lfw.bin");
        var output = await Actorface("eval", "--bin", bin, "--network", "mbf", "--weights", Weights("ok.pth"));
        Assert.Contains($"actorface eval: verification bin {bin}: is a ", output);
    }

    [Fact] // item 11: pack input
    public async Task APackInputThatIsAFifoIsRefused()
    {
        var identity = Directory.CreateDirectory(Path.Combine(dir, "images", "0001")).FullName;
        File.Copy(Face(), Path.Combine(identity, "a.png"));
        var fifo = SpecialFiles.Fifo(identity, "b.jpg");
        var output = await Actorface("pack", "--images", Path.Combine(dir, "images"), "--out", Path.Combine(dir, "packed", "train"));
        Assert.Contains($"error: image {fifo}: is a FIFO (named pipe), not a regular file", output);
    }

    [Fact] // item 11: cluster.secret_file and --config
    public async Task ASecretFileOrConfigThatIsAFifoIsRefused()
    {
        var secret = SpecialFiles.Fifo(dir, "secret");
        var output = await Actorface("train", "--set", "cluster.secret_file=" + secret, "--output", Path.Combine(dir, "out"));
        Assert.Contains($"key 'actorface.cluster.secret_file': cluster secret file {secret}: is a FIFO (named pipe), not a regular file", output);

        var config = SpecialFiles.Fifo(dir, "job.conf");
        output = await Actorface("train", "--config", config, "--output", Path.Combine(dir, "out"));
        Assert.Contains($"error: config file {config}: is a FIFO (named pipe), not a regular file", output);
    }

    [Fact] // item 12
    public async Task ABinWithNoPairsIsRefusedNamingTheFile()
    {
        var bin = Path.Combine(dir, "empty.bin");
        new VerificationBin("empty", [], []).Save(bin);
        var output = await Actorface("eval", "--bin", bin, "--network", "mbf", "--weights", Weights("ok.pth"));
        Assert.Contains($"actorface eval: {bin}: holds no pairs (empty image list and issame_list): nothing to verify", output);
    }

    [Fact] // item 13
    public async Task ATruncatedPthIsRefusedNamingTheFile()
    {
        var good = File.ReadAllBytes(Weights("full.pth"));
        var truncated = Path.Combine(dir, "truncated.pth");
        File.WriteAllBytes(truncated, good.AsSpan(0, good.Length / 2).ToArray());
        var output = await Actorface("embed", "--network", "mbf", "--weights", truncated, Face());
        Assert.Contains($"actorface embed: {truncated}: not a readable PyTorch zip archive, truncated or corrupt (End of Central Directory record could not be found.)", output);
    }

    [Theory] // item 14
    [InlineData("--json")]
    [InlineData("--out")]
    public async Task NanWeightsAreRefusedAndNoEmbeddingIsWritten(string mode)
    {
        var weights = Weights("nan.pth", m => m.parameters().First().fill_(float.NaN));
        var npy = Path.Combine(dir, "e.npy");
        string[] how = mode == "--json" ? ["--json"] : ["--out", npy];
        var output = await Actorface(["embed", "--network", "mbf", "--weights", weights, .. how, Face()]);
        Assert.Matches($@"actorface embed: {System.Text.RegularExpressions.Regex.Escape(weights)}: tensor '[^']+' holds \d+ non-finite value\(s\) \(NaN or infinity\)", output);
        Assert.DoesNotContain("\"embedding\"", output);
        Assert.False(File.Exists(npy));
    }

    [Fact] // item 14: finite but broken weights whose output overflows
    public async Task NonFiniteEmbeddingsAreNeverWritten()
    {
        var weights = Weights("huge.pth", m => { foreach (var p in m.parameters()) p.fill_(1e30f); });
        var npy = Path.Combine(dir, "e.npy");
        var face = Face();
        var output = await Actorface("embed", "--network", "mbf", "--weights", weights, "--out", npy, face);
        Assert.Contains($"actorface embed: --weights {weights} (mbf): the embedding of {face} has ", output);
        Assert.Contains("non-finite value(s) (NaN or infinity)", output);
        Assert.False(File.Exists(npy));
    }
}
