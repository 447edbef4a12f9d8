namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// Turns an identity template into one photo-like sample: random background, pose (rotation, scale, shift,
/// horizontal squeeze for yaw), lighting (gain, bias, colour cast, directional gradient), optional blur,
/// sensor noise and occasional greyscale. Every draw comes from one deterministic stream.
/// </summary>
public static class SampleAugmenter
{
    const int S = FaceSample.Size;
    const float C = (S - 1) / 2f;
    [ThreadStatic] static float[]? scratch;
    [ThreadStatic] static float[]? blurScratch;

    public static void Render(byte[] template, ref DeterministicRng r, Span<byte> rgb)
    {
        // background: a two-colour linear gradient in a random direction
        Span<float> bg0 = [r.NextFloat(20, 235), r.NextFloat(20, 235), r.NextFloat(20, 235)];
        Span<float> bg1 = [r.NextFloat(20, 235), r.NextFloat(20, 235), r.NextFloat(20, 235)];
        float bgAngle = r.NextFloat(0, 6.2832f);
        float bgx = MathF.Cos(bgAngle) / S, bgy = MathF.Sin(bgAngle) / S;

        float angle = Math.Clamp((float)r.NextGaussian() * 0.09f, -0.22f, 0.22f);
        float scale = r.NextFloat(0.92f, 1.08f);
        float squeeze = r.NextFloat(0.92f, 1.0f);
        float tx = r.NextFloat(-3.5f, 3.5f), ty = r.NextFloat(-3.5f, 3.5f);
        float gain = r.NextFloat(0.7f, 1.25f), bias = r.NextFloat(-18, 18);
        Span<float> cast = [r.NextFloat(0.9f, 1.1f), r.NextFloat(0.93f, 1.07f), r.NextFloat(0.9f, 1.1f)];
        float lightAngle = r.NextFloat(0, 6.2832f), lightAmount = r.NextFloat(0, 0.35f);
        float lx = MathF.Cos(lightAngle) * lightAmount / C, ly = MathF.Sin(lightAngle) * lightAmount / C;
        bool blur = r.NextBool(0.3);
        float noise = r.NextFloat(0, 7);
        bool grey = r.NextBool(0.05);

        // output (x, y) -> template (u, v): inverse of squeeze, rotation and scale about the centre, then shift
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        float inv = 1 / scale;
        // u, v are affine in (x, y): step them incrementally instead of recomputing the transform
        float dudx = cos * inv / squeeze, dudy = sin * inv / squeeze, dvdx = -sin * inv, dvdy = cos * inv;
        float u0 = (-C - tx) * dudx + (-C - ty) * dudy + C, v0 = (-C - tx) * dvdx + (-C - ty) * dvdy + C;
        var buf = scratch ??= new float[S * S * 3];
        float b0r = bg0[0], b0g = bg0[1], b0b = bg0[2], dbr = bg1[0] - b0r, dbg = bg1[1] - b0g, dbb = bg1[2] - b0b;
        float cr = cast[0], cg = cast[1], cb = cast[2];
        for (int y = 0; y < S; y++)
        {
            float u = u0 + y * dudy, v = v0 + y * dvdy;
            for (int x = 0; x < S; x++, u += dudx, v += dvdx)
            {
                float t = Math.Clamp(0.5f + (x - C) * bgx + (y - C) * bgy, 0, 1);
                Sample(template, u, v, out float fr, out float fg, out float fb, out float fa);
                float shade = gain * (1 + (x - C) * lx + (y - C) * ly);
                float k = 1 - fa;
                int o = (y * S + x) * 3;
                buf[o] = (fr + k * (b0r + dbr * t)) * shade * cr + bias;
                buf[o + 1] = (fg + k * (b0g + dbg * t)) * shade * cg + bias;
                buf[o + 2] = (fb + k * (b0b + dbb * t)) * shade * cb + bias;
            }
        }
        if (blur) BoxBlur3(buf);
        ulong state = r.NextUInt64() | 1;
        for (int i = 0; i < buf.Length; i += 3)
        {
            if (grey)
            {
                float g = 0.299f * buf[i] + 0.587f * buf[i + 1] + 0.114f * buf[i + 2];
                buf[i] = buf[i + 1] = buf[i + 2] = g;
            }
            for (int c = 0; c < 3; c++)
            {
                // xorshift noise: sum of two uniforms is a cheap, bounded bell shape
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                float n = ((state & 0xFFFF) + ((state >> 16) & 0xFFFF)) * (1f / 65536f) - 1f;
                rgb[i + c] = (byte)Math.Clamp(buf[i + c] + n * noise * 1.7f + 0.5f, 0, 255);
            }
        }
    }

    /// <summary>Bilinear read of the premultiplied template; outside it is transparent.</summary>
    static void Sample(byte[] t, float u, float v, out float r, out float g, out float b, out float a)
    {
        r = g = b = a = 0;
        if (u <= -1 || v <= -1 || u >= S || v >= S) return;
        int x0 = (int)(u + 1) - 1, y0 = (int)(v + 1) - 1;
        float fx = u - x0, fy = v - y0;
        if (x0 >= 0 && y0 >= 0 && x0 < S - 1 && y0 < S - 1)
        {
            // interior: all four taps exist; one span, no per-tap bounds logic
            var p = t.AsSpan((y0 * S + x0) * 4, (S + 2) * 4);
            float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
            const int R = S * 4;
            r = p[0] * w00 + p[4] * w10 + p[R] * w01 + p[R + 4] * w11;
            g = p[1] * w00 + p[5] * w10 + p[R + 1] * w01 + p[R + 5] * w11;
            b = p[2] * w00 + p[6] * w10 + p[R + 2] * w01 + p[R + 6] * w11;
            a = (p[3] * w00 + p[7] * w10 + p[R + 3] * w01 + p[R + 7] * w11) * (1f / 255f);
            return;
        }
        Accumulate(t, x0, y0, (1 - fx) * (1 - fy), ref r, ref g, ref b, ref a);
        Accumulate(t, x0 + 1, y0, fx * (1 - fy), ref r, ref g, ref b, ref a);
        Accumulate(t, x0, y0 + 1, (1 - fx) * fy, ref r, ref g, ref b, ref a);
        Accumulate(t, x0 + 1, y0 + 1, fx * fy, ref r, ref g, ref b, ref a);
        a *= 1f / 255f;
    }

    static void Accumulate(byte[] t, int x, int y, float w, ref float r, ref float g, ref float b, ref float a)
    {
        if ((uint)x >= S || (uint)y >= S) return;
        int o = (y * S + x) * 4;
        r += t[o] * w; g += t[o + 1] * w; b += t[o + 2] * w; a += t[o + 3] * w;
    }

    /// <summary>3x3 box blur (separable, edge pixels repeat).</summary>
    static void BoxBlur3(float[] buf)
    {
        var tmp = blurScratch ??= new float[buf.Length];
        const int Row = S * 3;
        for (int y = 0; y < S; y++)
        {
            int o = y * Row;
            for (int i = 0; i < Row; i++)
            {
                float left = i >= 3 ? buf[o + i - 3] : buf[o + i], right = i < Row - 3 ? buf[o + i + 3] : buf[o + i];
                tmp[o + i] = (left + buf[o + i] + right) * (1f / 3f);
            }
        }
        for (int y = 0; y < S; y++)
        {
            int up = Math.Max(0, y - 1) * Row, mid = y * Row, down = Math.Min(S - 1, y + 1) * Row;
            for (int i = 0; i < Row; i++) buf[mid + i] = (tmp[up + i] + tmp[mid + i] + tmp[down + i]) * (1f / 3f);
        }
    }
}
