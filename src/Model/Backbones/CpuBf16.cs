using ActorFace.Model.Runtime;

namespace ActorFace.Model.Backbones;

/// <summary>
/// Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX). Without it libtorch's bf16 convolutions and
/// matmuls fall back to scalar kernels far slower than float32, so <see cref="MixedPrecision"/> runs float32 kernels
/// on bf16-rounded operands instead. <c>ACTORFACE_CPU_BF16=native|emulate</c> overrides the detection.
/// </summary>
public static class CpuBf16
{
    static readonly Lazy<bool> native = new(Detect);

    public static bool IsNative => native.Value;

    static bool Detect()
    {
        switch (Environment.GetEnvironmentVariable("ACTORFACE_CPU_BF16"))
        {
            case "native": return true;
            case "emulate": return false;
        }
        return CpuFlags.Has("avx512_bf16") || CpuFlags.Has("amx_bf16");
    }
}
