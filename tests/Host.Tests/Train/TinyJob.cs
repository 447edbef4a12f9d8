namespace ActorFace.Host.Tests.Train;

/// <summary>The `actorface train` arguments of the tiny synthetic job that the multi-process tests run: MobileFaceNet
/// with 32-d embeddings, batch 4 per rank, one epoch, a log line every step, no verification pairs.</summary>
public static class TinyJob
{
    public static string[] Args(int classes, int images, int checkpointEvery, params string[] moreSets)
    {
        string[] sets =
        [
            "network=mbf", "embedding_size=32", "dataset=synthetic", $"num_classes={classes}", $"num_image={images}", "num_epoch=1",
            "batch_size=4", "lr=0.01", "frequent=1", $"checkpoint_every={checkpointEvery}", "synthetic.val_pairs=0", "num_workers=1",
            "grad_allreduce_fp16=false", "cluster.join_timeout=60s", .. moreSets,
        ];
        return ["train", .. sets.SelectMany(s => new[] { "--set", s })];
    }
}
