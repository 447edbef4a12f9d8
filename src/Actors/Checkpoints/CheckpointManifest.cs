using System.Text.Json.Serialization;

namespace ActorFace.Actors.Checkpoints;

/// <summary>
/// The record that makes a checkpoint complete: written by the coordinator (atomically) after every rank acked
/// step <see cref="Step"/>. Only manifested checkpoints are ever resumed.
/// </summary>
public sealed record CheckpointManifest
{
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")] public int Format { get; init; } = CurrentFormat;
    [JsonPropertyName("step")] public long Step { get; init; }
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("generation")] public int Generation { get; init; }
    [JsonPropertyName("world_size")] public int WorldSize { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    [JsonPropertyName("num_classes")] public int NumClasses { get; init; }
    [JsonPropertyName("embedding_size")] public int EmbeddingSize { get; init; }
    [JsonPropertyName("network")] public string Network { get; init; } = "";
    /// <summary>Folder of the checkpoint, relative to the manifest's folder; rank r's files are in rank_&lt;r&gt;/.</summary>
    [JsonPropertyName("directory")] public string Directory { get; init; } = "";
    [JsonPropertyName("created_utc")] public DateTime CreatedUtc { get; init; }
    /// <summary>SHA-256 (hex) of every file of the checkpoint, by path relative to <see cref="Directory"/>; checked
    /// before a checkpoint is resumed (<see cref="CheckpointStore.Latest"/>). Empty in manifests of older versions.</summary>
    [JsonPropertyName("sha256")] public Dictionary<string, string> Sha256 { get; init; } = [];

    [JsonIgnore] public long TotalBatchSize => (long)BatchSize * WorldSize;
}
