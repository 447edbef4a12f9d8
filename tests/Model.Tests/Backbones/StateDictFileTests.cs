using System.IO.Compression;
using System.Text;
using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Tests;
using TorchSharp;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

public sealed class StateDictFileTests : IDisposable
{
    readonly TempDirectory dir = new("actorface-sd-");

    public void Dispose() => dir.Dispose();

    string Temp(string name) => Path.Combine(dir, name);

    static byte[] EntryBytes(string zipPath, Func<string, bool> match)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.Entries.Single(e => match(e.FullName));
        using var s = entry.Open();
        var bytes = new byte[entry.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    [ReferenceFact(GoldenR18.WeightsFile)]
    public void SavedR18IsByteIdenticalToTorchSaveOfTheSameWeights()
    {
        using var model = BackboneFactory.Create("r18");
        StateDictFile.Load(model, GoldenR18.WeightsPath);
        var saved = Temp("r18_copy.pth");
        StateDictFile.Save(model, saved);

        // Same pickle opcodes, memo numbers and _metadata as PyTorch 1.13's torch.save ⇒ torch.load reads it alike.
        Assert.Equal(EntryBytes(GoldenR18.WeightsPath, n => n.EndsWith("/data.pkl")), EntryBytes(saved, n => n.EndsWith("/data.pkl")));
        using var golden = ZipFile.OpenRead(GoldenR18.WeightsPath);
        using var ours = ZipFile.OpenRead(saved);
        Assert.Equal("r18_copy/data.pkl", ours.Entries[0].FullName);
        Assert.Equal("3\n", Encoding.ASCII.GetString(EntryBytes(saved, n => n == "r18_copy/version")));
        var storages = golden.Entries.Where(e => e.FullName.Contains("/data/")).ToList();
        Assert.Equal(187, storages.Count);
        foreach (var g in storages)
        {
            var key = g.FullName[(g.FullName.IndexOf("/data/") + 6)..];
            var o = ours.GetEntry("r18_copy/data/" + key)!;
            Assert.Equal(o.Length, o.CompressedLength); // stored, like torch
            Assert.Equal(EntryBytes(GoldenR18.WeightsPath, n => n == g.FullName), EntryBytes(saved, n => n == o.FullName));
        }
    }

    [Fact]
    public void RoundTripIsBitExactIncludingInt64Counters()
    {
        using var model = BackboneFactory.Create("mbf");
        model.train();
        using (var x = randn(2, 3, 112, 112)) model.call(x).Dispose(); // moves running stats, counters = 1
        var entries = StateDictEntries.Of(model);
        const long bigCounter = 5_000_000_123; // beyond int32: exercises LONG1 / 8-byte storage
        entries.Single(e => e.Key == "features.layers.3.num_batches_tracked").Tensor.fill_(bigCounter);
        var path = Temp("mbf.pth");
        StateDictFile.Save(model, path);

        using var copy = BackboneFactory.Create("mbf");
        StateDictFile.Load(copy, path);
        var loaded = StateDictEntries.Of(copy);
        Assert.Equal(entries.Select(e => e.Key), loaded.Select(e => e.Key));
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(entries[i].Tensor.dtype, loaded[i].Tensor.dtype);
            Assert.Equal(entries[i].Tensor.shape, loaded[i].Tensor.shape);
            Assert.Equal(entries[i].Tensor.bytes.ToArray(), loaded[i].Tensor.bytes.ToArray());
        }
        var counter = loaded.Single(e => e.Key == "features.layers.3.num_batches_tracked").Tensor;
        Assert.Equal(ScalarType.Int64, counter.dtype);
        Assert.Empty(counter.shape);
        Assert.Equal(bigCounter, counter.item<long>());
        Assert.Equal(1L, loaded.Single(e => e.Key == "layers.0.layers.1.num_batches_tracked").Tensor.item<long>());
    }

    static List<(string Key, Tensor Tensor)> Entries(nn.Module m) => StateDictEntries.Of(m).Select(e => (e.Key, e.Tensor)).ToList();

    [Fact]
    public void MissingUnexpectedAndMisShapedKeysAreNamedAndNothingIsCopied()
    {
        using var source = BackboneFactory.Create("mbf");
        using var target = BackboneFactory.Create("mbf");
        var before = StateDictEntries.Of(target).Select(e => e.Tensor.clone()).ToList();

        var missing = Entries(source).Where(e => e.Key != "conv_sep.layers.1.running_var").ToList();
        var pathMissing = Temp("missing.pth");
        PthArchive.Write(pathMissing, missing, StateDictEntries.ModuleVersions(source));
        var ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(target, pathMissing));
        Assert.Contains("1 missing key(s): conv_sep.layers.1.running_var [512]", ex.Message);
        Assert.Contains(pathMissing, ex.Message);

        using var wrong = zeros(512, 100);
        var misShaped = Entries(source).Select(e => e.Key == "features.layers.2.weight" ? (e.Key, wrong) : e)
            .Append(("extra.weight", wrong)).ToList();
        var pathShape = Temp("shape.pth");
        PthArchive.Write(pathShape, misShaped, StateDictEntries.ModuleVersions(source));
        ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(target, pathShape));
        Assert.Contains("mis-shaped key(s): features.layers.2.weight file [512, 100] vs module [512, 512]", ex.Message);
        Assert.Contains("1 unexpected key(s): extra.weight [512, 100]", ex.Message);

        var after = StateDictEntries.Of(target);
        for (var i = 0; i < before.Count; i++) Assert.True(before[i].eq(after[i].Tensor).all().item<bool>(), after[i].Key);
    }

    [Fact]
    public void MissingBatchNormCountersCanBeToleratedOnRequest()
    {
        using var source = BackboneFactory.Create("mbf");
        using var target = BackboneFactory.Create("mbf");
        var path = Temp("old.pth");
        PthArchive.Write(path, Entries(source).Where(e => !e.Key.EndsWith("num_batches_tracked")).ToList(), StateDictEntries.ModuleVersions(source));
        var ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(target, path));
        Assert.Contains("layers.0.layers.1.num_batches_tracked []", ex.Message);
        StateDictFile.Load(target, path, allowMissingNumBatchesTracked: true);
        var expected = StateDictEntries.Of(source).Single(e => e.Key == "features.layers.2.weight").Tensor;
        Assert.True(expected.eq(StateDictEntries.Of(target).Single(e => e.Key == "features.layers.2.weight").Tensor).all().item<bool>());
    }

    [Fact]
    public void DataParallelPrefixGetsAHint()
    {
        using var model = BackboneFactory.Create("mbf");
        var path = Temp("ddp.pth");
        PthArchive.Write(path, Entries(model).Select(e => ("module." + e.Key, e.Tensor)).ToList(), StateDictEntries.ModuleVersions(model));
        var ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(model, path));
        Assert.Contains("'module.'", ex.Message);
    }

    static void WritePickleZip(string path, byte[] pickle)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write(pickle);
        using (var s = zip.CreateEntry("archive/version").Open()) s.Write("3\n"u8);
    }

    public static TheoryData<string, byte[]> MaliciousPickles => new()
    {
        // protocol 2: GLOBAL 'os system', ('echo pwned',), REDUCE — what a torch.save'd payload looks like
        { "os.system", [0x80, 2, .. "cos\nsystem\n"u8, (byte)'X', 10, 0, 0, 0, .. "echo pwned"u8, 0x85, (byte)'R', (byte)'.'] },
        // protocol 4: STACK_GLOBAL 'builtins' 'eval'
        { "builtins.eval", [0x80, 4, 0x8c, 8, .. "builtins"u8, 0x8c, 4, .. "eval"u8, 0x93, 0x8c, 1, (byte)'1', 0x85, (byte)'R', (byte)'.'] },
        // a global hidden inside an otherwise valid OrderedDict state_dict
        { "posix.system", [0x80, 2, .. "ccollections\nOrderedDict\n"u8, (byte)')', (byte)'R', (byte)'X', 1, 0, 0, 0, (byte)'k', .. "cposix\nsystem\n"u8, (byte)')', (byte)'R', (byte)'s', (byte)'.'] },
    };

    [Theory]
    [MemberData(nameof(MaliciousPickles))]
    public void PickleReferencingArbitraryGlobalsIsRefused(string global, byte[] pickle)
    {
        var path = Temp("evil.pth");
        WritePickleZip(path, pickle);
        using var model = BackboneFactory.Create("mbf");
        var ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(model, path));
        Assert.Contains($"'{global}'", ex.Message);
        Assert.Contains("refusing", ex.Message);
    }

    [Fact]
    public void LegacyAndGarbageFilesAreRejectedClearly()
    {
        var path = Temp("legacy.pth");
        File.WriteAllBytes(path, [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
        using var model = BackboneFactory.Create("mbf");
        var ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(model, path));
        Assert.Contains("legacy", ex.Message);
        Assert.Throws<FileNotFoundException>(() => StateDictFile.Load(model, Temp("absent.pth")));

        var notDict = Temp("list.pth");
        WritePickleZip(notDict, [0x80, 2, (byte)']', (byte)'.']);
        ex = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(model, notDict));
        Assert.Contains("not a state_dict", ex.Message);
    }
}
