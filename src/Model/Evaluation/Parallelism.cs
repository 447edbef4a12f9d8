using System.Runtime.ExceptionServices;

namespace ActorFace.Model.Evaluation;

/// <summary>Parallel.For that rethrows the first inner exception as itself, so callers see e.g. the
/// InvalidDataException naming a bad image instead of an AggregateException.</summary>
internal static class Parallelism
{
    public static void For(int count, Action<int> body, int maxDegree = -1)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDegree }, body);
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
    }
}
