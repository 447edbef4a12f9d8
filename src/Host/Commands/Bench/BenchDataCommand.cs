using System.CommandLine;
using System.Diagnostics;
using ActorFace.Model.Data;

namespace ActorFace.Host.Commands.Bench;

/// <summary>
/// <c>actorface bench data</c>: read + decode (or render) + flip + collate throughput of a source, with N worker
/// threads as the DataLoaderActor runs them. Reports images/s wall-clock and per CPU core (process CPU time), the
/// latter being meaningful on a shared machine.
/// </summary>
public static class BenchDataCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source") { Description = "PREFIX | DIR | synthetic | synthetic-ids:KxS[:SEED]", Required = true };
        var workers = new Option<int>("--workers") { Description = "decode threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 128 };
        var seconds = new Option<double>("--seconds") { Description = "measured duration", DefaultValueFactory = _ => 10 };
        var command = new Command("data", "Data pipeline throughput: images/s decoded + augmented + batched");
        foreach (var o in new Option[] { source, workers, batch, seconds }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(source)!, parse.GetValue(workers), parse.GetValue(batch), parse.GetValue(seconds));
            }
            catch (Exception e) when (e is IOException or ArgumentException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }
        });
        return command;
    }

    static int Run(string source, int workers, int batchSize, double seconds)
    {
        if (workers < 1 || batchSize < 1 || seconds <= 0) throw new ArgumentException("--workers, --batch and --seconds must be positive");
        var dataset = FaceDatasets.Open(source);
        var sampler = new DistributedSampler(dataset.Count, 1, 0, seed: 2048);
        var indices = sampler.Indices();
        int batches = Math.Max(1, indices.Length / batchSize);
        var builder = new BatchBuilder(dataset, 2048, skipBadRecords: true);
        Console.WriteLine($"source {source}: {dataset.Count} samples, {dataset.NumClasses} classes; {workers} workers, batch {batchSize}");

        // warm-up: JIT, libtorch, caches
        builder.Build(0, indices[..Math.Min(batchSize, indices.Length)], []).Dispose();

        long images = 0, corrupt = 0, next = 0;
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
        {
            var bad = new List<CorruptRecord>();
            while (wall.Elapsed.TotalSeconds < seconds)
            {
                long n = Interlocked.Increment(ref next) - 1;
                int step = (int)(n % batches), epoch = (int)(n / batches);
                int start = step * batchSize, end = Math.Min(indices.Length, start + batchSize);
                using var b = builder.Build(epoch, indices[start..end], bad);
                Interlocked.Add(ref images, b.Size);
            }
            Interlocked.Add(ref corrupt, bad.Count);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double elapsed = wall.Elapsed.TotalSeconds;
        proc.Refresh();
        double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"{images} images in {elapsed:F1} s: {images / elapsed:F0} images/s wall, " +
                          $"{images / cpu:F0} images/s per CPU core ({cpu:F1} CPU-s), {corrupt} corrupt skipped");
        return 0;
    }
}
