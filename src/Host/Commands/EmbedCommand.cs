using System.CommandLine;
using ActorFace.Model.Formats.Images;
using System.Globalization;
using System.Text.Json;
using ActorFace.Model.Evaluation;

namespace ActorFace.Host.Commands;

/// <summary>`actorface embed`: one embedding per face image, printed or saved as .npy / .csv.</summary>
public static class EmbedCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("images") { Description = "image files or directories (aligned 112x112 RGB faces)", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "print embeddings as JSON" };
        var output = new Option<string?>("--out") { Description = "write the embeddings to X.npy (float32 [N,D]) or X.csv" };
        var landmarks = new Option<string?>("--landmarks") { Description = "file of 'image x1 y1 ... x5 y5 [score]' lines: 5-point align first" };
        var normalize = new Option<bool>("--normalize") { Description = "L2-normalise each embedding (default: raw network output)" };
        var flip = new Option<bool>("--flip") { Description = "add the embedding of the mirrored face (flip-sum) before any normalisation" };
        var model = new EmbedderOptions();
        var command = new Command("embed", "compute face embeddings of images");
        command.Arguments.Add(inputs);
        model.AddTo(command);
        foreach (var o in new Option[] { json, output, landmarks, normalize, flip }) command.Options.Add(o);
        command.SetAction(p => CommandErrors.Run(p, "embed", o =>
        {
            var err = p.InvocationConfiguration.Error;
            var outPath = p.GetValue(output);
            if (outPath != null && !outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) && !outPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out {outPath}: use a .npy or .csv file name");
            var files = FaceImageLoader.Expand(p.GetValue(inputs)!);
            var marks = p.GetValue(landmarks) is { } lmPath ? FaceImageLoader.ReadLandmarks(lmPath) : null;
            List<RgbImage> faces;
            using (var decoding = ProgressReporter.ForCommand("embed: decode", files.Count, "images", err))
                faces = files.Select(f => { var face = FaceImageLoader.Load(f, marks, err.WriteLine); decoding.Advance(); return face; }).ToList();
            using var embedder = model.Create(p);
            var batch = p.GetValue(flip) ? faces.Concat(faces.Select(f => f.FlipHorizontal())).ToList() : faces;
            float[][] rows;
            using (var progress = ProgressReporter.ForCommand("embed", batch.Count, "images", err))
                rows = embedder.Embed(batch, n => progress.Advance(n));
            if (p.GetValue(flip)) rows = rows.Take(faces.Count).Select((r, i) => r.Zip(rows[faces.Count + i], (a, b) => a + b).ToArray()).ToArray();
            if (p.GetValue(normalize))
                rows = rows.Select(r => { double n = Math.Sqrt(r.Sum(v => (double)v * v)); return n == 0 ? r : r.Select(v => (float)(v / n)).ToArray(); }).ToArray();
            // Never write (or print) NaN embeddings with exit 0: name the image and the model instead.
            EmbeddingCheck.RequireFinite(rows, i => files[i], model.Source(p));

            if (outPath != null)
            {
                if (outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) EmbeddingFiles.WriteNpy(outPath, rows);
                else EmbeddingFiles.WriteCsv(outPath, files, rows);
            }
            if (p.GetValue(json))
                o.WriteLine(JsonSerializer.Serialize(files.Select((f, i) => new { file = f, norm = Norm(rows[i]), embedding = rows[i] })));
            else if (outPath != null)
                o.WriteLine($"{rows.Length} embeddings of dimension {rows[0].Length} written to {outPath} (row order: {string.Join(", ", files.Take(3))}{(files.Count > 3 ? ", ..." : "")})");
            else
                for (int i = 0; i < rows.Length; i++)
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{files[i]}\t{rows[i].Length}-D\tnorm {Norm(rows[i]):F4}\t[{string.Join(", ", rows[i].Take(6).Select(v => v.ToString("F5", CultureInfo.InvariantCulture)))}, ...]"));
            return 0;
        }));
        return command;
    }

    static double Norm(float[] r) => Math.Sqrt(r.Sum(v => (double)v * v));
}
