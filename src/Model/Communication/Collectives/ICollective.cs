using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

public enum ReduceOp { Sum, Max }

/// <summary>
/// The communicator of one rank in a fixed world (torch.distributed's ProcessGroup, reduced to what
/// arcface_torch uses). All calls are blocking and must be issued in the same order on every rank.
/// After <see cref="Abort"/> (or a timeout, or a dead peer) every pending and future call throws
/// <see cref="CollectiveAbortedException"/>.
/// </summary>
public interface ICollective : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }

    /// <summary>Concatenates every rank's tensor along dim 0, in rank order. Sizes along dim 0 may differ.</summary>
    Tensor AllGather(Tensor input);

    /// <summary>Reduces <paramref name="tensor"/> in place across ranks.</summary>
    void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum);

    /// <summary>Input [W·n, ...] on every rank; rank r receives the reduction of every rank's r-th n-row slice.</summary>
    Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum);

    /// <summary>Overwrites <paramref name="tensor"/> in place with root's values.</summary>
    void Broadcast(Tensor tensor, int root = 0);

    void Barrier();

    /// <summary>Fails every pending and future call on this communicator, on this rank, within a second.</summary>
    void Abort(string reason);

    bool IsAborted { get; }
}

/// <summary>Thrown by every call on an aborted communicator; carries the first abort's reason.</summary>
public class CollectiveAbortedException : Exception
{
    public CollectiveAbortedException(string reason, Exception? inner = null) : base($"collective aborted: {reason}", inner) { }
}
