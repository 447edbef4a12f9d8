using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ActorFace.Model.Backbones;

/// <summary>
/// TorchSharp has no autocast, so the fp16 trunks of arcface_torch are reproduced by hand: the activation dtype
/// decides, and float32 master weights are cast to it per op (the cast is differentiable, so gradients land in
/// float32). Batch-norm math runs in float32 and is rounded back, as CUDA autocast does.
/// </summary>
public static class MixedPrecision
{
    /// <summary>float16 on CUDA (what autocast uses); bfloat16 on CPU, where float16 convolutions are slow or missing.</summary>
    public static ScalarType HalfTypeFor(Device device) =>
        device.type == DeviceType.CUDA ? ScalarType.Float16 : ScalarType.BFloat16;

    public static Tensor Conv(Conv2d conv, Tensor x)
    {
        if (x.dtype == conv.weight!.dtype) return conv.call(x);
        using var w = conv.weight.to(x.dtype);
        using var b = conv.bias?.to(x.dtype);
        if (x.device_type != DeviceType.CPU || CpuBf16.IsNative)
            return nn.functional.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation, conv.groups);

        // CPUs without native bf16 (CpuBf16) fall back to kernels 3-100x slower than float32 (worst for the
        // grouped convs of MobileFaceNet). Products of bf16 values are exact in float32 and the native kernels
        // accumulate in float32 too, so running the float32 kernel on the rounded operands and rounding the
        // result gives the same values up to summation order.
        using var xf = x.to(ScalarType.Float32);
        using var wf = w.to(ScalarType.Float32);
        using var bf = b?.to(ScalarType.Float32);
        using var y = nn.functional.conv2d(xf, wf, bf, conv.stride, conv.padding, conv.dilation, conv.groups);
        return y.to(x.dtype);
    }

    public static Tensor Norm(nn.Module<Tensor, Tensor> norm, Tensor x)
    {
        // The bf16 key casts the whole module (float32 masters live in the trainer): then the norm runs in its dtype.
        if (x.dtype == ScalarType.Float32 || norm.parameters().FirstOrDefault()?.dtype == x.dtype) return norm.call(x);
        // libtorch's CPU batch norm takes bf16 activations with float32 parameters and statistics and computes in float32
        // itself (as PyTorch's CPU autocast runs it): the same values without two casts over the whole activation.
        // r18 bf16: inference +24 %, training +8 %, peak RSS -0.2 / -0.5 GB (docs/performance.md).
        if (norm is BatchNorm2d && x.device_type == DeviceType.CPU && x.dtype == ScalarType.BFloat16) return norm.call(x);
        using var up = x.to(ScalarType.Float32);
        using var y = norm.call(up);
        return y.to(x.dtype);
    }

    public static Tensor PRelu(PReLU prelu, Tensor x)
    {
        if (x.dtype == prelu.weight!.dtype) return prelu.call(x);
        using var w = prelu.weight.to(x.dtype);
        return nn.functional.prelu(x, w);
    }

    public static Tensor Linear(Linear linear, Tensor x)
    {
        if (x.dtype == linear.weight!.dtype) return linear.call(x);
        using var w = linear.weight.to(x.dtype);
        using var b = linear.bias?.to(x.dtype);
        return nn.functional.linear(x, w, b);
    }
}
