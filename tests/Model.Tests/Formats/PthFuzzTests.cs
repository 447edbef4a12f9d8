using ActorFace.Model.Backbones;
using ActorFace.Model.Backbones.Weights;
using static TorchSharp.torch;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Pickle;

namespace ActorFace.Model.Tests.Formats;

/// <summary>Mutation fuzzing of the .pth reader: the zip container (PthArchive) and the pickle (RestrictedUnpickler).</summary>
public sealed class PthFuzzTests : IDisposable
{
    readonly TempDirectory dir = new("actorface-fuzz-pth-");
    readonly ITestOutputHelper output;

    public PthFuzzTests(ITestOutputHelper output) => this.output = output;

    public void Dispose() => dir.Dispose();

    static readonly Type[] Documented = [typeof(InvalidDataException), typeof(FormatException)];

    byte[] SeedFile()
    {
        using var model = nn.Sequential(("fc", nn.Linear(4, 3)), ("bn", nn.BatchNorm1d(3)));
        var path = Path.Combine(dir, "seed.pth");
        StateDictFile.Save(model, path);
        return File.ReadAllBytes(path);
    }

    static byte[] PickleOf(byte[] pth)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(pth));
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl"));
        using var s = entry.Open();
        var bytes = new byte[entry.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    [Fact]
    public void MutatedPthFilesParseOrFailWithADocumentedError()
    {
        var seed = SeedFile();
        var path = Path.Combine(dir, "case.pth");
        var report = new MutationFuzzer(seed: 9).Run([seed], MutationFuzzer.CaseCount(1500), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            foreach (var (_, t) in PthArchive.Read(path)) t.Dispose();
        }, Documented, TimeSpan.FromSeconds(10));
        output.WriteLine($".pth container: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Fact]
    public void MutatedStateDictPicklesParseOrFailWithADocumentedError()
    {
        var pickle = PickleOf(SeedFile());
        // Storages are what the real loader checks against the archive: here any plausible size is zero-filled.
        byte[] Storage(string key, ScalarType dtype, long numel) =>
            numel is >= 0 and <= 4096 ? new byte[numel * StorageTypes.ElementSize(dtype)]
                : throw new InvalidDataException($"storage '{key}' size {numel} does not match the archive");
        var report = new MutationFuzzer(seed: 10).Run([pickle], MutationFuzzer.CaseCount(3000), bytes =>
        {
            foreach (var (_, t) in RestrictedUnpickler.LoadStateDict(bytes, "fuzz.pkl", Storage)) t.Dispose();
        }, Documented, TimeSpan.FromSeconds(10));
        output.WriteLine($"state_dict pickle: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }
    [Fact]
    public void EveryTruncationOfAPthIsRefusedNamingTheFile()
    {
        var seed = SeedFile();
        var path = Path.Combine(dir, "truncated.pth");
        for (var length = 0; length < seed.Length; length += Math.Max(1, seed.Length / 97))
        {
            File.WriteAllBytes(path, seed.AsSpan(0, length).ToArray());
            string? message = null;
            var outcome = MutationFuzzer.RunOne([], _ =>
            {
                try { PthArchive.Read(path); }
                catch (InvalidDataException e) { message = e.Message; throw; }
            }, Documented, TimeSpan.FromSeconds(10));
            Assert.True(outcome is null, $"{length} bytes: {outcome}");
            Assert.True(message?.Contains(path) == true, $"{length} of {seed.Length} bytes: '{message}' does not name the file");
        }
    }

    [Fact]
    public void NonFiniteWeightsAreRefusedNamingTheFileAndTheTensor()
    {
        using var model = nn.Sequential(("fc", nn.Linear(4, 3)), ("bn", nn.BatchNorm1d(3)));
        using (no_grad()) model.named_parameters().Single(p => p.name == "fc.bias").parameter[1] = float.NaN;
        var path = Path.Combine(dir, "nan.pth");
        StateDictFile.Save(model, path);
        using var target = nn.Sequential(("fc", nn.Linear(4, 3)), ("bn", nn.BatchNorm1d(3)));
        var before = target.named_parameters().Single(p => p.name == "fc.bias").parameter.data<float>().ToArray();
        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.Load(target, path));
        Assert.Equal($"{path}: tensor 'fc.bias' holds 1 non-finite value(s) (NaN or infinity) of 3; the weights are broken " +
                     "(a diverged run or a corrupt file) and would only produce NaN embeddings", e.Message);
        Assert.Equal(before, target.named_parameters().Single(p => p.name == "fc.bias").parameter.data<float>().ToArray()); // nothing copied
    }
}
