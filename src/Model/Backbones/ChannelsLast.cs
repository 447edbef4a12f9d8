using ActorFace.Model.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.Backbones;

/// <summary>
/// Whether a CNN trunk runs channels-last (NHWC) on this CPU. oneDNN writes an NHWC convolution's result straight into
/// the tensor; for NCHW it computes in its own blocked layout and copies back, an extra buffer and pass per
/// convolution. Inference always gains (r18 +16–20 %). Training gains where oneDNN has AVX-512 kernels (AMD Zen 5:
/// r18 +14 %, 0.4–0.9 GB less peak RSS); with AVX2 only its NHWC backward was 3–6 % slower, so training keeps NCHW
/// there. <c>ACTORFACE_CHANNELS_LAST=1|0</c> overrides (docs/performance.md).
/// </summary>
public static class ChannelsLast
{
    static readonly Lazy<bool> forTraining = new(Detect);

    /// <summary>This CPU's choice for training (the default of a trunk's <c>ChannelsLastInTraining</c>).</summary>
    public static bool ForTraining => forTraining.Value;

    /// <param name="inTraining">the trunk's own setting for training mode</param>
    public static bool Applies(Tensor x, bool training, bool inTraining) =>
        x.device_type == DeviceType.CPU && (!training || inTraining);

    /// <summary>The same values in NHWC memory order, still indexed [N, C, H, W].</summary>
    public static Tensor Convert(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    static bool Detect()
    {
        switch (Environment.GetEnvironmentVariable("ACTORFACE_CHANNELS_LAST"))
        {
            case "1": return true;
            case "0": return false;
        }
        return CpuFlags.Has("avx512f");
    }
}
