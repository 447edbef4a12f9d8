using ActorFace.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests.Training;

/// <summary>The update rules of spec §5.2 ("SGD update", "AdamW update"), two steps, against float64 arithmetic.</summary>
public class ParameterOptimizerTests
{
    static readonly double[] P0 = { 0.5, -1.0, 2.0 };
    static readonly double[][] Grads = { new[] { 0.1, 0.2, -0.3 }, new[] { -0.4, 0.05, 0.6 } };

    static double[] Run(ParameterOptimizer opt, Tensor p, double lr)
    {
        foreach (var g in Grads)
        {
            p.grad = torch.tensor(g.Select(x => (float)x).ToArray());
            opt.Step(lr);
        }
        return p.data<float>().ToArray().Select(x => (double)x).ToArray();
    }

    [Fact]
    public void SgdWithMomentumAndWeightDecay()
    {
        using var scope = NewDisposeScope();
        var p = torch.tensor(P0.Select(x => (float)x).ToArray()).requires_grad_(true);
        using var opt = new SgdOptimizer(new[] { p }, 0.9, 5e-4);
        var actual = Run(opt, p, 0.1);
        for (var i = 0; i < 3; i++)
        {
            double w = P0[i], buf = 0;
            for (var s = 0; s < 2; s++)
            {
                var d = Grads[s][i] + 5e-4 * w;
                buf = s == 0 ? d : 0.9 * buf + d;
                w -= 0.1 * buf;
            }
            Assert.Equal(w, actual[i], 6);
        }
    }

    [Fact]
    public void AdamWDecoupledWeightDecay()
    {
        using var scope = NewDisposeScope();
        var p = torch.tensor(P0.Select(x => (float)x).ToArray()).requires_grad_(true);
        using var opt = new AdamWOptimizer(new[] { p }, 0.1);
        var actual = Run(opt, p, 0.001);
        for (var i = 0; i < 3; i++)
        {
            double w = P0[i], m = 0, v = 0;
            for (var s = 1; s <= 2; s++)
            {
                var g = Grads[s - 1][i];
                w *= 1 - 0.001 * 0.1;
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                w -= 0.001 * (m / (1 - Math.Pow(0.9, s))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, s))) + 1e-8);
            }
            Assert.Equal(w, actual[i], 6);
        }
        Assert.Equal(2.0, opt.GetState(0)["step"].item<double>());
    }

    [Fact]
    public void StateRoundTripAndShapeCheck()
    {
        using var scope = NewDisposeScope();
        var p = torch.ones(3).requires_grad_(true);
        using var opt = new SgdOptimizer(new[] { p }, 0.9, 0);
        Run(opt, p, 0.1);
        var q = torch.ones(4).requires_grad_(true);
        using var other = new SgdOptimizer(new[] { q }, 0.9, 0);
        Assert.Throws<InvalidOperationException>(() => other.SetState(0, opt.GetState(0)));
        Assert.Throws<ArgumentException>(() => ParameterOptimizer.Parse("lamb"));
    }
}
