using System.Text.Json;

namespace ActorFace.Model.Tests.Goldens;

public class GoldenJsonComparisonTests
{
    static GoldenJsonComparison Compare(string expected, string actual, Dictionary<string, double>? noise = null)
    {
        var comparison = new GoldenJsonComparison(1e-4, noise ?? []);
        comparison.Compare(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement);
        return comparison;
    }

    [Fact]
    public void NumbersWithinTheirArraysScalePass()
    {
        // 0.001 is off by 2e-5 of itself, but only 2e-9 of the array's scale (1e4).
        var c = Compare("""{"out":[[10000.0,0.001]],"n":3}""", """{"out":[[10000.0,0.00100002]],"n":3}""");
        Assert.Empty(c.Problems);
        Assert.Equal(1, c.DifferentNumbers);
        Assert.Equal("out", c.WorstPath);
    }

    [Fact]
    public void ADifferenceBeyondToleranceIsNamedWithItsPath()
    {
        var c = Compare("""{"a":{"rows":[1.0,2.0]}}""", """{"a":{"rows":[1.0,2.01]}}""");
        Assert.Equal("a.rows[1]: 2.01 written, 2 expected (|diff| 0.01, 0.005 of scale 2)", Assert.Single(c.Problems));
    }

    [Fact]
    public void SumIsMeasuredAgainstAbsSum()
    {
        // a cancelling sum: 1e-3 off of 0.002 is 50 %, but 1e-7 of the 1e4 it is a sum of
        Assert.Empty(Compare("""{"sum":0.002,"abs_sum":10000.0}""", """{"sum":0.003,"abs_sum":10000.0}""").Problems);
        Assert.Single(Compare("""{"sum":0.002,"abs_sum":1.0}""", """{"sum":0.003,"abs_sum":1.0}""").Problems);
    }

    [Fact]
    public void NoisePathsGetAnAbsoluteTolerance()
    {
        var noise = new Dictionary<string, double> { ["grad.fc.bias"] = 1e-5 };
        Assert.Empty(Compare("""{"grad":{"fc.bias":{"first8":[1e-8,-2e-8]}}}""", """{"grad":{"fc.bias":{"first8":[-3e-8,5e-8]}}}""", noise).Problems);
        Assert.Single(Compare("""{"grad":{"fc.bias":{"first8":[1e-8]}}}""", """{"grad":{"fc.bias":{"first8":[1e-3]}}}""", noise).Problems);
    }

    [Fact]
    public void KeysIntegersStringsAndShapesMustMatchExactly()
    {
        var c = Compare("""{"k":1,"s":"x","shape":[2,3],"m":[[1.0,2.0]],"gone":0}""", """{"k":2,"s":"y","shape":[2,3],"m":[[1.0],[2.0]],"new":0}""");
        Assert.Contains("gone: not written", c.Problems);
        Assert.Contains("new: written but not in the golden", c.Problems);
        Assert.Contains(c.Problems, p => p.StartsWith("k: 2 written, integer 1"));
        Assert.Contains(c.Problems, p => p.StartsWith("s: \"y\" written"));
        Assert.Contains(c.Problems, p => p.StartsWith("m: shape [2,1] written, [1,2] expected"));
        Assert.Equal(5, c.Problems.Count);
    }
}
