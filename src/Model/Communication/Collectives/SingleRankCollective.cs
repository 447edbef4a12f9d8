using static TorchSharp.torch;

namespace ActorFace.Model.Communication.Collectives;

/// <summary>
/// The world of one rank: every collective is the identity (a fresh tensor where the interface returns one), so
/// single-process training runs the exact same code path as a distributed one, as arcface_torch does with its
/// one-rank process group.
/// </summary>
public sealed class SingleRankCollective : ICollective
{
    string? abortReason;

    public int Rank => 0;
    public int WorldSize => 1;
    public bool IsAborted => abortReason != null;

    public Tensor AllGather(Tensor input) { ThrowIfAborted(); return input.clone(); }

    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => ThrowIfAborted();

    public Tensor ReduceScatter(Tensor input, ReduceOp op = ReduceOp.Sum) { ThrowIfAborted(); return input.clone(); }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        ThrowIfAborted();
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "world size is 1: the only root is 0");
    }

    public void Barrier() => ThrowIfAborted();

    public void Abort(string reason) => abortReason ??= reason;

    public void Dispose() { }

    void ThrowIfAborted()
    {
        if (abortReason != null) throw new CollectiveAbortedException(abortReason);
    }
}
