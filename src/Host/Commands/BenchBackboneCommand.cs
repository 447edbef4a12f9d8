using System.CommandLine;
using System.Diagnostics;
using ActorFace.Model.Backbones;
using static TorchSharp.torch;

namespace ActorFace.Host.Commands;

/// <summary>`actorface bench-backbone`: forward (or forward + backward) throughput of one backbone on the CPU.</summary>
public static class BenchBackboneCommand
{
    public static Command Create()
    {
        var command = new Command("bench-backbone", "Measure images/s of a backbone forward (or forward+backward with --train) on 112x112 inputs");
        var network = new Option<string>("--network") { Description = "r18 r34 r50 r100 r200 mbf mbf_large", DefaultValueFactory = _ => "r18" };
        var batch = new Option<int>("--batch") { Description = "images per iteration", DefaultValueFactory = _ => 8 };
        var iterations = new Option<int>("--iterations") { Description = "timed iterations (after one warm-up)", DefaultValueFactory = _ => 3 };
        var fp16 = new Option<bool>("--fp16") { Description = "mixed precision trunk (bf16 on CPU)" };
        var train = new Option<bool>("--train") { Description = "train mode, forward + backward" };
        var weights = new Option<string?>("--weights") { Description = "optional PyTorch state_dict (.pth) to load first" };
        foreach (var o in new Option[] { network, batch, iterations, fp16, train, weights }) command.Options.Add(o);

        command.SetAction(parse =>
        {
            var name = parse.GetValue(network)!;
            int b = parse.GetValue(batch), iters = parse.GetValue(iterations);
            bool half = parse.GetValue(fp16), training = parse.GetValue(train);
            if (b < 1 || iters < 1) return Error("--batch and --iterations must be >= 1");
            if (training && b < 2) return Error("--train needs --batch >= 2 (BatchNorm1d on the embedding)");
            if (!BackboneFactory.Networks.Contains(name)) return Error($"unknown --network '{name}' (expected {string.Join(", ", BackboneFactory.Networks)})");
            using var model = BackboneFactory.Create(name, fp16: half);
            var path = parse.GetValue(weights);
            if (path != null)
            {
                try { StateDictFile.Load(model, path); }
                catch (Exception e) when (e is IOException or InvalidDataException) { return Error(e.Message); }
            }
            if (training) model.train(); else model.eval();
            using var x = randn(b, 3, 112, 112);

            void Step()
            {
                using var scope = NewDisposeScope();
                if (training)
                {
                    model.zero_grad();
                    model.call(x).square().mean().backward();
                }
                else
                {
                    using var _ = no_grad();
                    model.call(x);
                }
            }

            Step();
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < iters; i++) Step();
            var seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"{name} {(half ? "fp16" : "fp32")} {(training ? "train" : "eval")} batch {b}: " +
                              $"{seconds / iters * 1000:F0} ms/iter, {b * iters / seconds:F1} images/s ({get_num_threads()} threads)");
            return 0;
        });
        return command;
    }

    static int Error(string message)
    {
        Console.Error.WriteLine($"bench-backbone: {message}");
        return 2;
    }
}
