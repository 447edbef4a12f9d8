using System.Globalization;

namespace ActorFace.Model.Evaluation;

/// <summary>arcface_torch's verification log lines (spec §5.7), Python %f formatting.</summary>
public static class VerificationLog
{
    public static string[] Lines(string name, int step, VerificationResult r, double highest) => new[]
    {
        string.Create(CultureInfo.InvariantCulture, $"[{name}][{step}]XNorm: {r.XNorm:F6}"),
        string.Create(CultureInfo.InvariantCulture, $"[{name}][{step}]Accuracy-Flip: {r.Flip.Accuracy:F5}+-{r.Flip.Std:F5}"),
        string.Create(CultureInfo.InvariantCulture, $"[{name}][{step}]Accuracy-Highest: {highest:F5}"),
    };
}
