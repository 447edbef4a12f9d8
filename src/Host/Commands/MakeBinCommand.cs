using System.CommandLine;
using ActorFace.Model.Evaluation;

namespace ActorFace.Host.Commands;

/// <summary>`actorface make-bin`: a verification .bin (10 folds, half same / half different) from an ImageFolder.</summary>
public static class MakeBinCommand
{
    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "ImageFolder root: one sub-folder of aligned 112x112 faces per identity", Required = true };
        var pairs = new Option<int>("--pairs") { Description = "number of pairs (multiple of 20)", Required = true };
        var output = new Option<string>("--out") { Description = "output .bin", Required = true };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1234 };
        var disjoint = new Option<bool>("--identity-disjoint") { Description = "each fold uses its own group of identities" };
        var command = new Command("make-bin", "build an InsightFace-format verification .bin from an ImageFolder");
        foreach (var o in new Option[] { images, pairs, output, seed, disjoint }) command.Options.Add(o);
        command.SetAction(p => CommandErrors.Run(p, "make-bin", o =>
        {
            var outPath = p.GetValue(output)!;
            using var progress = ProgressReporter.ForCommand("make-bin", 2L * p.GetValue(pairs), "images", p.InvocationConfiguration.Error);
            var (bin, report) = VerificationBinBuilder.Build(p.GetValue(images)!, p.GetValue(pairs), p.GetValue(seed), p.GetValue(disjoint),
                Path.GetFileNameWithoutExtension(outPath), progress.Callback);
            bin.Save(outPath);
            o.WriteLine($"{outPath}: {bin.PairCount} pairs ({bin.IsSame.Count(s => s)} same) from {report.Identities} identities / {report.ImagesAvailable} images");
            if (report.ReusedImages > 0)
                p.InvocationConfiguration.Error.WriteLine($"warning: {report.ReusedImages} image draws reused an image (not enough unused images)");
            return 0;
        }));
        return command;
    }
}
