using System.Text.Json;
using ActorFace.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.PartialFC;

/// <summary>Reads the golden JSON files of ../shared/golden into tensors.</summary>
internal sealed class GoldenJson
{
    readonly JsonElement root;
    public string File { get; }

    public GoldenJson(string file)
    {
        File = SharedPaths.Golden(file);
        root = JsonDocument.Parse(System.IO.File.ReadAllText(File)).RootElement;
    }

    public JsonElement this[string path]
    {
        get
        {
            var e = root;
            foreach (var part in path.Split('.'))
                if (!e.TryGetProperty(part, out e)) throw new KeyNotFoundException($"{File}: no key '{path}'");
            return e;
        }
    }

    public double Number(string path) => this[path].GetDouble();

    public double[] Flat(string path, out long[] shape)
    {
        var values = new List<double>();
        var dims = new List<long>();
        void Walk(JsonElement e, int depth)
        {
            if (e.ValueKind == JsonValueKind.Array)
            {
                if (dims.Count == depth) dims.Add(e.GetArrayLength());
                foreach (var c in e.EnumerateArray()) Walk(c, depth + 1);
            }
            else values.Add(e.GetDouble());
        }
        Walk(this[path], 0);
        shape = dims.ToArray();
        return values.ToArray();
    }

    public Tensor Float(string path)
    {
        var v = Flat(path, out var shape);
        return torch.tensor(v.Select(x => (float)x).ToArray(), shape);
    }

    public Tensor Double(string path)
    {
        var v = Flat(path, out var shape);
        return torch.tensor(v, shape);
    }

    public Tensor Long(string path)
    {
        var v = Flat(path, out var shape);
        return torch.tensor(v.Select(x => (long)x).ToArray(), shape);
    }
}

internal static class TensorAssert
{
    /// <summary>Max |a - e| / (atol + rtol·|e|) must be ≤ 1; returns the max absolute deviation for reporting.</summary>
    public static double Close(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.detach().to_type(ScalarType.Float64);
        var diff = (a - e).abs();
        var ratio = (diff / (e.abs() * rtol + atol)).max().item<double>();
        var maxAbs = diff.max().item<double>();
        Assert.True(ratio <= 1.0, $"{what}: max |diff| {maxAbs:G6}, worst diff/(atol+rtol|e|) = {ratio:G6}");
        Console.WriteLine($"[golden] {what}: max |diff| = {maxAbs:G4}");
        return maxAbs;
    }
}
