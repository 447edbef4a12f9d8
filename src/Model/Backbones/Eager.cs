using static TorchSharp.torch;

namespace ActorFace.Model.Backbones;

/// <summary>
/// PyTorch frees an intermediate activation when its last reference goes; TorchSharp keeps it until its dispose scope
/// ends. A block that only used a scope kept every intermediate until it returned: in inference the first IResNet
/// block alone held four extra [N, 64, 112, 112] tensors (peak bytes in use 967 MB where PyTorch needs 557 at r18,
/// batch 32), and the pattern of those late frees fragments glibc's heap step after step. <see cref="Then"/> releases
/// the handle as soon as the next layer has consumed it, as TorchSharp's own <c>Sequential</c> does; autograd keeps
/// by itself whatever it saved for the backward pass.
/// </summary>
public static class Eager
{
    /// <summary>Applies <paramref name="layer"/> to <paramref name="input"/> and disposes the input handle.</summary>
    public static Tensor Then(this Tensor input, Func<Tensor, Tensor> layer)
    {
        var output = layer(input);
        if (!ReferenceEquals(output, input)) input.Dispose();
        return output;
    }
}
