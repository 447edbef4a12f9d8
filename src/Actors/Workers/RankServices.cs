using System.Net;
using ActorFace.Actors.Coordination;
using ActorFace.Actors.Settings;
using Akka.Actor;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Actors.Workers;

/// <summary>Everything one rank of one generation needs to build its trainer and its data feed.</summary>
public sealed record RankContext(
    TrainingSettings Settings,
    int Generation,
    int Rank,
    int WorldSize,
    int LocalSlot,
    ICollective Collective,
    StepPlan Plan,
    long StartStep);

/// <summary>Loss of the step (same on every rank), the LR the next step uses (what arcface_torch logs) and the
/// GradScaler's scale (NaN without fp16).</summary>
public readonly record struct RankStepResult(double Loss, double NextLearningRate, double GradScale = double.NaN,
    double GradNorm = double.NaN, ActorFace.Model.Training.StepTimings? Timings = null);

/// <summary>
/// One rank's numeric work (backbone replica, optimiser, LR schedule; the class shard is passed in), driven by
/// <see cref="GpuWorker"/>. Implemented over Model's RankTrainer in production and by small fakes in actor tests.
/// </summary>
public interface IRankTrainer : IDisposable
{
    /// <summary>Iteration <paramref name="globalStep"/> (1-based): every collective call happens in here, in lock-step.</summary>
    RankStepResult Step(long globalStep, Tensor images, Tensor labels);

    /// <summary>Writes the replicated state (backbone, its optimiser state, LR schedule) into a folder.</summary>
    void SaveReplica(string directory);

    /// <summary>Restores the replicated state and positions the schedule after <paramref name="stepsDone"/> steps
    /// (which differs from the saved step when the world size changed).</summary>
    void LoadReplica(string directory, long stepsDone);

    /// <summary>backbone.pth: the backbone's state_dict in PyTorch's format.</summary>
    void SaveBackbone(string path);

    /// <summary>The backbone, for verification on rank 0.</summary>
    nn.Module<Tensor, Tensor> Backbone { get; }
}

/// <summary>The Partial FC shard of one rank: class centres [num_local, D] and their optimiser state.</summary>
public interface IClassShard : IDisposable
{
    void Save(string directory);

    /// <summary>What the monitor shows of the shard (null: nothing). Called by the worker between steps only,
    /// because the trainer uses the shard during a step.</summary>
    ClassShardUsage? Usage() => null;
}

/// <summary>Classes [ClassStart, ClassStart + NumLocal) owned, centres sampled by the last step (all of them without
/// sampling), and the bytes held by centres, their gradient and optimiser state.</summary>
public sealed record ClassShardUsage(long ClassStart, long NumLocal, long SampledClasses, long Bytes);

/// <summary>The rank's class shard and how to build the trainer around it: the factory that made the shard binds it
/// with its own type, so the shard reaches the trainer without a cast.</summary>
/// <param name="CreateTrainer">A collective call (rank 0's backbone is broadcast), so every rank of the world calls it
/// together.</param>
public sealed record RankShard(IClassShard Shard, Func<IRankTrainer> CreateTrainer);

/// <summary>Builds the numeric parts of one rank.</summary>
public interface IRankTrainerFactory
{
    /// <summary>
    /// The rank's class shard (freshly initialised, or this rank's slice of the classes taken from the shards of all
    /// old ranks, any old world size) and its trainer's builder. Runs in the rank's <see cref="ClassShardActor"/>.
    /// </summary>
    RankShard CreateShard(RankContext context, IReadOnlyList<string>? oldShardDirectories);
}

/// <summary>The training data of this node: its size (checked against every other node) and per-rank feeds.</summary>
public interface IRankDataFactory
{
    long DatasetCount { get; }

    /// <summary>Props of an actor that answers <see cref="FeedCredits"/> with <see cref="FeedBatch"/> messages,
    /// starting with global step <c>context.StartStep + 1</c>.</summary>
    Props FeedProps(RankContext context);
}

public interface ICollectiveFactory
{
    /// <summary>All ranks of the world live in this process.</summary>
    ICollective[] CreateLocal(int worldSize, TimeSpan timeout);

    /// <summary>One rank of a world spread over processes; blocks until every rank is connected. The session token
    /// (job + generation) keeps a straggler of an aborted generation out of the new ring.</summary>
    ICollective ConnectTcp(int rank, IReadOnlyList<IPEndPoint> endpoints, TimeSpan timeout, string session);

    /// <summary>The NCCL backend of this process (null: none, e.g. test fakes that run without it).</summary>
    INcclBackend? Nccl => null;

    /// <summary>Checks an NCCL world against the security rule before a rank joins it (throws to refuse); the ranks'
    /// endpoints say which machines the world spans.</summary>
    void CheckNccl(int rank, IReadOnlyList<IPEndPoint> endpoints) { }
}

/// <summary>Verification on rank 0 (every `verbose` steps and at the end): the log lines and one result per target.</summary>
public interface IVerificationHook
{
    (IReadOnlyList<string> Lines, IReadOnlyList<VerificationOutcome> Results) Evaluate(nn.Module<Tensor, Tensor> backbone, long globalStep);
}

public sealed record VerificationOutcome(string Target, double Accuracy, double Std, double Best);

public sealed record RankServices(
    IRankTrainerFactory Trainers,
    IRankDataFactory Data,
    ICollectiveFactory Collectives,
    IVerificationHook? Verification = null);
