namespace ActorFace.Model.Evaluation;

/// <summary>
/// Refuses embeddings with NaN or infinite values: broken weights (a diverged run, a corrupt file) make every output
/// NaN, and a NaN embedding written to .npy or averaged into an accuracy looks like a result but is none.
/// </summary>
public static class EmbeddingCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming the first bad row, the model and how many values are bad.</summary>
    public static void RequireFinite(IReadOnlyList<float[]> rows, Func<int, string> rowName, string model)
    {
        for (int i = 0; i < rows.Count; i++)
        {
            var bad = 0;
            foreach (var v in rows[i]) if (!float.IsFinite(v)) bad++;
            if (bad == 0) continue;
            var badRows = rows.Count(r => r.Any(v => !float.IsFinite(v)));
            throw new InvalidDataException(
                $"{model}: the embedding of {rowName(i)} has {bad} non-finite value(s) (NaN or infinity) of {rows[i].Length}" +
                $"{(badRows > 1 ? $", and {badRows - 1} more image(s) too" : "")}; the model's weights are broken (NaN/Inf weights, " +
                "e.g. from a diverged run or a corrupt file); nothing was written");
        }
    }
}
