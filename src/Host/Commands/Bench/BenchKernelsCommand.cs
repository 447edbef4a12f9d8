using System.CommandLine;
using ActorFace.Host.Commands.Bench.Kernels;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// `actorface bench kernels`: BenchmarkDotNet micro-benchmarks of the hot kernels (margin, distributed softmax,
/// class sampling, Partial FC step, ring all-reduce), run in this process with the in-process emit toolchain so that
/// no separate benchmark project or build is needed.
/// </summary>
public static class BenchKernelsCommand
{
    static readonly Type[] Benchmarks = { typeof(LossKernels), typeof(PartialFCKernels), typeof(AllReduceKernels) };

    public static Command Create()
    {
        var command = new Command("kernels", "BenchmarkDotNet micro-benchmarks: margin, distributed softmax, sampling, Partial FC step, all-reduce");
        var filter = new Option<string>("--filter") { Description = "BenchmarkDotNet glob over Type.Method, e.g. *LossKernels*", DefaultValueFactory = _ => "*" };
        var job = new Option<string>("--job") { Description = "short (3 iterations) or medium", DefaultValueFactory = _ => "short" };
        var artifacts = new Option<string>("--artifacts") { Description = "BenchmarkDotNet report folder", DefaultValueFactory = _ => "BenchmarkDotNet.Artifacts" };
        foreach (var o in new Option[] { filter, job, artifacts }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var j = parse.GetValue(job) switch
            {
                "short" => Job.ShortRun,
                "medium" => Job.MediumRun,
                var other => null,
            };
            if (j is null)
            {
                Console.Error.WriteLine($"bench kernels: --job must be short or medium, got '{parse.GetValue(job)}'");
                return 2;
            }
            var config = DefaultConfig.Instance
                .AddJob(j.WithToolchain(InProcessEmitToolchain.Instance))
                .WithArtifactsPath(parse.GetValue(artifacts)!)
                .WithOptions(ConfigOptions.DisableOptimizationsValidator | ConfigOptions.JoinSummary);
            var summaries = BenchmarkSwitcher.FromTypes(Benchmarks).Run(new[] { "--filter", parse.GetValue(filter)! }, config);
            return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
        });
        return command;
    }
}
