using System.Text.Json;
using ActorFace.Tests;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Backbones;

/// <summary>Access to /shared/golden r18 files (produced by arcface_torch's iresnet18 on PyTorch 1.13, CPU).</summary>
static class GoldenR18
{
    // Reference-folder paths for [ReferenceFact(...)]: the tests that read them are skipped where they are absent.
    public const string WeightsFile = "golden/r18_seed0.pth";
    public const string ForwardFile = "golden/r18_forward.json";
    public const string StateDictKeysFile = "golden/r18_state_dict_keys.json";

    static readonly Lazy<JsonElement> forward = new(() => Parse(ForwardFile));
    static readonly Lazy<JsonElement> stateDictKeys = new(() => Parse(StateDictKeysFile));

    public static string WeightsPath => SharedPaths.Reference(WeightsFile);

    // Lazy: Input() must not touch the reference folder (tests without it use the same fixed input).
    public static JsonElement Forward => forward.Value;
    public static JsonElement StateDictKeys => stateDictKeys.Value;

    static JsonElement Parse(string relative) => JsonDocument.Parse(File.ReadAllText(SharedPaths.Reference(relative))).RootElement.Clone();

    /// <summary>The json's input_formula: x[b,c,h,w] = f32((((i*7919 + 104729*b) % 2001) - 1000) / 1000), i = c*112*112 + h*112 + w.</summary>
    public static Tensor Input(int batch)
    {
        const int n = 3 * 112 * 112;
        var values = new float[batch * n];
        for (long b = 0; b < batch; b++)
            for (long i = 0; i < n; i++)
                values[b * n + i] = (float)((((i * 7919 + 104729 * b) % 2001) - 1000) / 1000.0);
        return tensor(values, [batch, 3, 112, 112]);
    }

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public static float[,] Matrix(JsonElement rows)
    {
        var list = rows.EnumerateArray().Select(Floats).ToList();
        var m = new float[list.Count, list[0].Length];
        for (var i = 0; i < list.Count; i++)
            for (var j = 0; j < list[i].Length; j++) m[i, j] = list[i][j];
        return m;
    }

    /// <summary>max |a - b| / max |b|: errors normalised by the golden row's scale (outputs reach ~1e7 at init).</summary>
    public static double NormalisedError(ReadOnlySpan<float> actual, ReadOnlySpan<float> golden)
    {
        Assert.Equal(golden.Length, actual.Length);
        double scale = 0, err = 0;
        for (var i = 0; i < golden.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(golden[i]));
            err = Math.Max(err, Math.Abs((double)actual[i] - golden[i]));
        }
        return err / scale;
    }
}
