using System.Text.Json;
using ActorFace.Model.Backbones.Weights;
using ActorFace.Tests;
using Xunit.Abstractions;
using ActorFace.Model.Formats.Pickle;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Goldens;

/// <summary>
/// tools/make_goldens.py rebuilds, from arcface_torch's own modules, every golden file the suite reads: run it into
/// a temp folder and compare each file with the reference one (JSON numerically, .pth tensor by tensor). Runs where
/// ACTORFACE_ARCFACE_TORCH names insightface's recognition/arcface_torch folder and a Python 3 with PyTorch is found
/// (ACTORFACE_PYTHON, else python3, else /usr/bin/python3); skipped with the reason elsewhere (CI has neither).
/// </summary>
public class MakeGoldensScriptTests(ITestOutputHelper output)
{
    internal const string CelebaFolder = "data/celeba-subset-112";

    /// <summary>The golden files the script writes; the suite's tests read them from ../shared/golden.</summary>
    internal static readonly string[] Files =
    [
        "r18_seed0.pth", "r18_state_dict_keys.json", "r18_forward.json", "vit_t_seed0.pth", "vit_t_forward.json",
        "margin_arcface.json", "margin_cosface.json", "pfc_sr1.json", "pfc_sr05.json", "lr_poly_warmup.json",
    ];

    // r18_forward.json's notes: these gradients are 0 in exact arithmetic; the stored values are float noise.
    static readonly Dictionary<string, double> NoiseTolerance = new()
    {
        ["train_grad_stats.fc.bias"] = 1e-5,
        ["train_grad_stats.layer4.1.bn3.bias"] = 1e-5,
    };

    const double RelativeTolerance = 1e-4;

    [MakeGoldensScriptFact]
    public void ScriptRebuildsEveryGoldenFileTheSuiteReads()
    {
        var outDir = Directory.CreateTempSubdirectory("actorface-goldens-").FullName;
        try
        {
            var script = Path.Combine(SharedPaths.RepoRoot, "tools", "make_goldens.py");
            var (code, stdout, stderr) = ChildProcess.Run(MakeGoldensScriptFactAttribute.Python!, [script,
                "--arcface-torch", MakeGoldensScriptFactAttribute.ArcfaceTorch!, "--out", outDir,
                "--celeba", SharedPaths.Reference(CelebaFolder)], TimeSpan.FromMinutes(8));
            output.WriteLine(stdout.Trim());
            Assert.True(code == 0, $"make_goldens.py exited with {code}:\n{stderr}");
            Assert.Equal(Files.Order(), Directory.GetFiles(outDir).Select(Path.GetFileName).Order()!);

            var problems = new List<string>();
            foreach (var file in Files)
            {
                var reference = SharedPaths.Golden(file);
                var written = Path.Combine(outDir, file);
                if (File.ReadAllBytes(reference).AsSpan().SequenceEqual(File.ReadAllBytes(written)))
                {
                    output.WriteLine($"{file}: byte-identical");
                    continue;
                }
                var found = file.EndsWith(".pth") ? ComparePth(file, reference, written) : CompareJson(file, reference, written);
                problems.AddRange(found.Select(p => $"{file}: {p}"));
            }
            Assert.True(problems.Count == 0, $"{problems.Count} differences beyond tolerance:\n" + string.Join("\n", problems.Take(30)));
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    List<string> CompareJson(string file, string reference, string written)
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(reference));
        using var actual = JsonDocument.Parse(File.ReadAllText(written));
        var comparison = new GoldenJsonComparison(RelativeTolerance, NoiseTolerance);
        comparison.Compare(expected.RootElement, actual.RootElement);
        output.WriteLine($"{file}: {comparison.Numbers - comparison.DifferentNumbers} of {comparison.Numbers} numbers identical; " +
                         $"largest difference {comparison.WorstError:G2} of its scale ({comparison.WorstPath})");
        return comparison.Problems;
    }

    List<string> ComparePth(string file, string reference, string written)
    {
        var problems = new List<string>();
        var expected = PthArchive.Read(reference);
        var actual = PthArchive.Read(written);
        try
        {
            if (!expected.Select(e => e.Key).SequenceEqual(actual.Select(a => a.Key)))
                return [$"keys differ: {string.Join(",", actual.Select(a => a.Key).Take(5))}... written"];
            var identical = 0;
            foreach (var ((key, e), (_, a)) in expected.Zip(actual))
            {
                if (e.dtype != a.dtype || !e.shape.SequenceEqual(a.shape))
                    problems.Add($"{key}: {a.dtype}[{string.Join(",", a.shape)}] written, {e.dtype}[{string.Join(",", e.shape)}] expected");
                else if (e.equal(a).item<bool>()) identical++;
                else
                {
                    using var scope = NewDisposeScope();
                    var (ed, ad) = (e.to(ScalarType.Float64), a.to(ScalarType.Float64));
                    var error = (ad - ed).abs().max().item<double>() / Math.Max(ed.abs().max().item<double>(), double.Epsilon);
                    if (error > 1e-6) problems.Add($"{key}: differs by {error:G3} of its scale");
                }
            }
            output.WriteLine($"{file}: {identical} of {expected.Count} tensors bit-identical");
            return problems;
        }
        finally
        {
            foreach (var (_, t) in expected.Concat(actual)) t.Dispose();
        }
    }
}
