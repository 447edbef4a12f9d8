using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Tests;

public class SmokeTests
{
    [Fact]
    public void TorchLoadsAndComputes()
    {
        ActorFace.Model.Runtime.MallocTuning.Apply();
        var x = ones(3, 3, requires_grad: true);
        var y = (x * 2).sum();
        y.backward();
        Assert.Equal(2f, x.grad!.mean().item<float>());
    }
}
