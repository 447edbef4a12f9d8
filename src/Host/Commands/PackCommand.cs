using System.CommandLine;
using ActorFace.Model.Data;
using ActorFace.Model.Data.Synthetic;
using ActorFace.Model.Formats.RecordIO;

namespace ActorFace.Host.Commands;

/// <summary>
/// <c>actorface pack</c>: ImageFolder -> MXNet RecordIO (PREFIX.rec/.idx + property), <c>--verify</c> a pack end to
/// end, or write a synthetic-identity verification .bin (<c>--synthetic-bin</c>).
/// </summary>
public static class PackCommand
{
    public static Command Create()
    {
        var images = new Option<string?>("--images") { Description = "ImageFolder root: one sub-directory per identity" };
        var output = new Option<string?>("--out") { Description = "output prefix P (writes P.rec, P.idx and 'property' next to them); use DIR/train for arcface_torch" };
        var shuffle = new Option<bool>("--shuffle") { Description = "shuffle the images (writes the plain im2rec layout without identity records)" };
        var seed = new Option<long>("--seed") { Description = "shuffle / synthetic seed", DefaultValueFactory = _ => 0 };
        var resize = new Option<int?>("--resize") { Description = "decode, resize to 112x112 and re-encode (default: copy the JPEG bytes)" };
        var verify = new Option<string?>("--verify") { Description = "check the pack PREFIX (or a directory with train.rec/train.idx) end to end" };
        var synthBin = new Option<string?>("--synthetic-bin") { Description = "write a verification .bin of synthetic people to this path" };
        var identities = new Option<int>("--identities") { Description = "synthetic .bin: number of people", DefaultValueFactory = _ => 100 };
        var firstIdentity = new Option<int>("--first-identity") { Description = "synthetic .bin: first person id (use >= training identities)", DefaultValueFactory = _ => 100_000 };
        var pairs = new Option<int>("--pairs") { Description = "synthetic .bin: pairs, a multiple of 20", DefaultValueFactory = _ => 600 };
        var force = new Option<bool>("--force") { Description = "replace an existing pack (the old one stays intact until the new one is complete)" };
        var strict = new Option<bool>("--strict") { Description = "fail (write nothing) if any image does not decode, instead of skipping and listing it" };

        var command = new Command("pack", "Build, verify or generate face datasets (MXNet RecordIO, verification .bin)");
        foreach (var o in new Option[] { images, output, shuffle, seed, resize, verify, synthBin, identities, firstIdentity, pairs, force, strict })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(verify) is { } v) return Verify(v);
                if (parse.GetValue(synthBin) is { } bin)
                {
                    SyntheticVerificationSet.Write(bin, parse.GetValue(seed), parse.GetValue(firstIdentity), parse.GetValue(identities), parse.GetValue(pairs));
                    Console.WriteLine($"wrote {bin}: {parse.GetValue(pairs)} pairs of {parse.GetValue(identities)} synthetic people");
                    return 0;
                }
                var dir = parse.GetValue(images);
                var prefix = parse.GetValue(output);
                if (dir is null || prefix is null)
                    return Error("give --images DIR --out PREFIX, or --verify PREFIX, or --synthetic-bin PATH");
                PackSummary summary;
                using (var progress = new PhasedProgress())
                    summary = RecordIOPacker.Pack(dir, prefix,
                        new PackOptions(parse.GetValue(shuffle), parse.GetValue(seed), parse.GetValue(resize),
                            Force: parse.GetValue(force), Strict: parse.GetValue(strict)), progress.Phase("pack: write"), progress.Phase("pack: decode check"));
                foreach (var bad in summary.Skipped) Console.Error.WriteLine("skipped: " + bad);
                Console.WriteLine($"{summary.RecPath}: {summary.Images} images, {summary.Classes} identities, " +
                                  (summary.InsightFaceLayout ? "InsightFace layout (header + identity records)" : "plain shuffled layout") +
                                  (summary.Skipped.Count > 0 ? $"; {summary.Skipped.Count} image(s) skipped because they do not decode (listed above; --strict fails instead)" : ""));
                return 0;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or InvalidDataException)
            {
                return Error(e.Message);
            }
        });
        return command;
    }

    static int Verify(string path)
    {
        PackReport report;
        using (var progress = new PhasedProgress())
            report = PackVerifier.Verify(path, progress.Phase("pack --verify"));
        Console.WriteLine($"{report.Records} records, {report.Images} images, {report.NumClasses} classes, " +
                          (report.InsightFaceLayout ? "InsightFace layout" : "plain layout"));
        foreach (var p in report.Problems) Console.Error.WriteLine("problem: " + p);
        if (report.Ok) Console.WriteLine("OK");
        return report.Ok ? 0 : 1;
    }

    /// <summary>One progress reporter per phase of the packer (decode check, then write), on stderr, one at a time.</summary>
    sealed class PhasedProgress : IDisposable
    {
        readonly object gate = new();
        ProgressReporter? current;
        string? phase;

        public Action<int, int> Phase(string name) => (done, total) =>
        {
            lock (gate)
            {
                if (phase != name)
                {
                    current?.Dispose();
                    current = ProgressReporter.ForCommand(name, total, "images");
                    phase = name;
                }
                current!.Report(done, total);
            }
        };

        public void Dispose() => current?.Dispose();
    }

    static int Error(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return 2;
    }
}
