namespace ActorFace.Model.Data.Synthetic;

/// <summary>
/// Paints the canonical (frontal, neutral light) face of a <see cref="FaceIdentity"/> into a premultiplied RGBA
/// 112x112 byte template. Layers, back to front: long hair, ears, neck, head with jaw and
/// shading, hair cap by style, brows, eyes (white, iris, pupil, lid), glasses, nose, beard, lips, moles, blush.
/// Pixels outside the person have alpha 0, so each sample gets its own background.
/// </summary>
public static class FaceRenderer
{
    const int S = FaceSample.Size;

    public static byte[] RenderTemplate(FaceIdentity id)
    {
        // one sample per pixel: the per-sample bilinear warp already softens the edges, and templates must be
        // cheap because a sampler over thousands of people renders each one on first use
        var t = new byte[S * S * 4];
        Span<float> px = stackalloc float[4];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                Shade(id, x + 0.5f, y + 0.5f, px);
                int o = (y * S + x) * 4;
                t[o] = ToByte(px[0] * px[3]); t[o + 1] = ToByte(px[1] * px[3]); t[o + 2] = ToByte(px[2] * px[3]); t[o + 3] = ToByte(px[3] * 255);
            }
        return t;
    }

    static byte ToByte(float v) => (byte)Math.Clamp(v + 0.5f, 0, 255);

    /// <summary>Straight RGBA (alpha 0..1) of the face at canonical point (u, v).</summary>
    static void Shade(FaceIdentity f, float u, float v, Span<float> o)
    {
        o.Clear();
        float cx = f.HeadCx, cy = f.HeadCy;
        float dxh = (u - cx) / (f.HeadRx + f.HairVolume), dyh = (v - (cy - 3)) / (f.HeadRy + f.HairVolume * 0.6f);
        bool longHair = f.HairStyle is 1 or 3;
        if (longHair && dxh * dxh + dyh * dyh < 1 && v < cy + f.HeadRy * 0.8f) Set(o, f.Hair, 0.85f);

        // ears
        foreach (var side in (ReadOnlySpan<float>)[-1f, 1f])
        {
            float ex = (u - (cx + side * f.HeadRx * 0.97f)) / (4.5f * f.EarSize), ey = (v - (f.EyeY + 9)) / (8.5f * f.EarSize);
            if (ex * ex + ey * ey < 1) Set(o, f.Skin, 0.88f);
        }
        // neck
        if (MathF.Abs(u - cx) < f.HeadRx * 0.52f && v > cy + f.HeadRy * 0.45f) Set(o, f.Skin, 0.78f);

        // head with a narrowing jaw below the centre line
        float dy = (v - cy) / f.HeadRy;
        float rx = f.HeadRx * (dy > 0 ? 1 - f.Jaw * dy * dy : 1);
        float dx = (u - cx) / rx;
        float rr = dx * dx + dy * dy;
        if (rr >= 1)
        {
            if (!longHair) HairCap(f, u, v, cx, cy, o);
            return;
        }
        Set(o, f.Skin, 1.02f - 0.2f * rr);

        // blush and moles
        foreach (var side in (ReadOnlySpan<float>)[-1f, 1f])
        {
            float bx = u - (cx + side * f.HeadRx * 0.55f), by = v - (f.EyeY + 15);
            float b = MathF.Exp(-(bx * bx + by * by) / 40f) * 0.12f;
            o[0] += (220 - o[0]) * b; o[1] += (90 - o[1]) * b * 0.5f; o[2] += (90 - o[2]) * b * 0.5f;
        }
        foreach (var (mx, my, mr) in f.Moles)
            if ((u - mx) * (u - mx) + (v - my) * (v - my) < mr * mr) Mul(o, 0.45f);

        // nose: shaded bridge on one side, nostrils
        if (v > f.EyeY + 5 && v < f.NoseTipY && u > cx && u < cx + 2.2f) Mul(o, 0.86f);
        foreach (var side in (ReadOnlySpan<float>)[-1f, 1f])
        {
            float nx = (u - (cx + side * f.NoseWidth * 0.3f)) / 2.4f, ny = (v - f.NoseTipY) / 1.5f;
            if (nx * nx + ny * ny < 1) Mul(o, 0.45f);
        }
        if (MathF.Abs(u - cx) < f.NoseWidth * 0.5f && MathF.Abs(v - (f.NoseTipY - 2.5f)) < 1.0f) Mul(o, 0.9f);

        // beard / stubble: lower face, speckled
        if (f.Beard > 0 && v > f.NoseTipY + 3 && dy > 0.15f)
        {
            float speckle = (Hash(u, v) & 3) / 3f;
            Blend(o, f.Hair, f.Beard * (0.55f + 0.45f * speckle));
        }

        // lips, with curvature (smile/frown) and a dark parting line
        float mxn = (u - cx) / f.MouthHalfWidth;
        if (MathF.Abs(mxn) < 1)
        {
            float centre = f.MouthY + f.MouthCurve * mxn * mxn;
            float half = f.MouthThick * MathF.Sqrt(1 - mxn * mxn);
            float d = v - centre;
            if (MathF.Abs(d) < half) Set(o, f.Lip, d < 0 ? 0.92f : 1.05f);
            if (MathF.Abs(d) < 0.6f) Set(o, f.Lip, 0.35f);
        }

        foreach (var side in (ReadOnlySpan<float>)[-1f, 1f])
        {
            float ex = cx + side * f.EyeDx;
            // brow: a slanted capsule above the eye
            float bx0 = ex - side * f.BrowLen * 0.5f, bx1 = ex + side * f.BrowLen * 0.5f;
            float by = f.EyeY - f.EyeRy - f.BrowGap;
            if (SegmentDistance(u, v, bx0, by + f.BrowTilt * 0.5f, bx1, by - f.BrowTilt * 0.5f) < f.BrowThick) Set(o, f.Hair, 0.7f);
            // eye
            float ux = (u - ex) / f.EyeRx, uy = (v - f.EyeY) / f.EyeRy;
            float er = ux * ux + uy * uy;
            if (er < 1)
            {
                Set(o, [238, 236, 230], 1);
                float ir = MathF.Sqrt((u - ex) * (u - ex) + (v - f.EyeY) * (v - f.EyeY));
                float irisR = f.EyeRy * 1.05f;
                if (ir < irisR) Set(o, f.Iris, 1 - 0.3f * ir / irisR);
                if (ir < irisR * 0.45f) Set(o, [15, 12, 12], 1);
                if (uy < -0.6f) Set(o, f.Skin, 0.55f);
            }
            else if (er < 1.35f && v < f.EyeY) Set(o, f.Skin, 0.6f);
            if (f.Glasses)
            {
                float gr = MathF.Sqrt((u - ex) * (u - ex) + (v - f.EyeY) * (v - f.EyeY) * 1.4f);
                float ring = f.EyeRx + 3.5f;
                if (MathF.Abs(gr - ring) < 1.1f) Set(o, [30, 30, 35], 1);
            }
        }
        if (f.Glasses && MathF.Abs(v - f.EyeY + 1) < 0.9f && MathF.Abs(u - cx) < f.EyeDx - f.EyeRx - 3.0f) Set(o, [30, 30, 35], 1);

        HairCap(f, u, v, cx, cy, o);
    }

    /// <summary>Hair above a style-dependent hairline, inside the head ellipse grown by the hair volume.</summary>
    static void HairCap(FaceIdentity f, float u, float v, float cx, float cy, Span<float> o)
    {
        float dx = (u - cx) / (f.HeadRx + f.HairVolume * 0.5f), dy = (v - cy) / (f.HeadRy + f.HairVolume * 0.4f);
        if (dx * dx + dy * dy >= 1) return;
        float xn = (u - cx) / f.HeadRx;
        float line = f.HairStyle switch
        {
            0 => f.HairlineY + 10 * xn * xn,
            1 => f.HairlineY + 6 * xn + 8 * xn * xn,
            2 => f.HairlineY - 10 + 30 * xn * xn,
            _ => f.HairlineY + 3 * MathF.Sin(u * 0.5f + f.HairPhase) + 6 * xn * xn,
        };
        if (v >= line) return;
        float streak = 1 + 0.12f * MathF.Sin(u * 0.9f + f.HairPhase + 0.2f * v);
        Set(o, f.Hair, streak);
    }

    static float SegmentDistance(float px, float py, float ax, float ay, float bx, float by)
    {
        float vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
        float t = Math.Clamp((wx * vx + wy * vy) / (vx * vx + vy * vy), 0, 1);
        float dx = wx - t * vx, dy = wy - t * vy;
        return MathF.Sqrt(dx * dx + dy * dy);
    }

    static uint Hash(float u, float v) => (uint)DeterministicRng.Mix((ulong)((int)(u * 2) * 7919 + (int)(v * 2) * 104729));

    static void Set(Span<float> o, ReadOnlySpan<float> c, float k)
    {
        o[0] = c[0] * k; o[1] = c[1] * k; o[2] = c[2] * k; o[3] = 1;
    }

    static void Mul(Span<float> o, float k)
    {
        o[0] *= k; o[1] *= k; o[2] *= k;
    }

    static void Blend(Span<float> o, ReadOnlySpan<float> c, float a)
    {
        o[0] += (c[0] - o[0]) * a; o[1] += (c[1] - o[1]) * a; o[2] += (c[2] - o[2]) * a;
    }
}
