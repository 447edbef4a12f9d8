using ActorFace.Model.Formats.Images;
namespace ActorFace.Model.Evaluation;

/// <summary>
/// 5-point similarity alignment onto the ArcFace 112×112 template (spec §6.4): Umeyama least squares
/// (rotation + uniform scale + translation, no reflection), then a bilinear affine warp with black border.
/// </summary>
public static class FaceAligner
{
    /// <summary>arcface_dst: left eye, right eye, nose tip, left and right mouth corner.</summary>
    public static readonly double[,] ArcFaceTemplate =
    {
        { 38.2946, 51.6963 }, { 73.5318, 51.5014 }, { 56.0252, 71.7366 }, { 41.5493, 92.3655 }, { 70.7299, 92.2041 },
    };

    /// <summary>2×3 matrix M mapping source points onto destination points in the least-squares similarity sense.</summary>
    public static double[,] EstimateSimilarity(double[,] src, double[,] dst)
    {
        int n = src.GetLength(0);
        if (n != dst.GetLength(0) || n < 2 || src.GetLength(1) != 2 || dst.GetLength(1) != 2)
            throw new ArgumentException($"need matching [n,2] point sets with n >= 2 (got {src.GetLength(0)} and {dst.GetLength(0)})");
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (int i = 0; i < n; i++) { msx += src[i, 0]; msy += src[i, 1]; mdx += dst[i, 0]; mdy += dst[i, 1]; }
        msx /= n; msy /= n; mdx /= n; mdy /= n;
        double sxx = 0, dot = 0, cross = 0;
        for (int i = 0; i < n; i++)
        {
            double xu = src[i, 0] - msx, xv = src[i, 1] - msy, yu = dst[i, 0] - mdx, yv = dst[i, 1] - mdy;
            sxx += xu * xu + xv * xv;
            dot += xu * yu + xv * yv;
            cross += xu * yv - xv * yu;
        }
        if (sxx == 0) throw new ArgumentException("landmarks are all the same point");
        double a = dot / sxx, b = cross / sxx;
        return new[,] { { a, -b, mdx - (a * msx - b * msy) }, { b, a, mdy - (b * msx + a * msy) } };
    }

    /// <summary>Aligns a face given its five landmarks [5,2] in image pixel coordinates.</summary>
    public static RgbImage Align(RgbImage image, double[,] landmarks) =>
        ImageOps.WarpAffine(image, EstimateSimilarity(landmarks, ArcFaceTemplate), RgbImage.FaceSize, RgbImage.FaceSize);
}
