namespace ActorFace.Model.Communication.Collectives;

/// <summary>Which collective a rank is in; exchanged with every operation so that ranks issuing different
/// operations (or the same one with mismatched arguments) fail with a clear message instead of dead-locking.</summary>
internal enum CollectiveOpKind : byte
{
    AllGather = 1,
    AllGatherSizes = 2,
    AllReduce = 3,
    ReduceScatter = 4,
    Broadcast = 5,
    Barrier = 6,
}

/// <summary>One rank's description of the operation it is entering (A and B are operation specific).</summary>
internal readonly record struct OpHeader(CollectiveOpKind Kind, long Seq, int Dtype, long A, long B)
{
    public override string ToString() => $"op #{Seq} {Kind} (dtype {(TorchSharp.torch.ScalarType)Dtype}, {A}, {B})";
}
