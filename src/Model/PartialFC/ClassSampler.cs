using TorchSharp;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// Partial FC's centre selection (spec §3.3): every positive class of the global batch plus uniformly drawn negatives
/// up to num_sample, sorted ascending; or only the positives when they alone exceed num_sample.
/// </summary>
public static class ClassSampler
{
    /// <summary>
    /// Returns the selected local class ids I (int64, sorted) and remaps <paramref name="localLabels"/> in place to
    /// positions inside I (rows with -1 stay -1).
    /// </summary>
    public static Tensor Sample(Tensor localLabels, long numLocal, long numSample, ISampleRandom random)
    {
        using var noGrad = torch.no_grad();
        var positiveRows = localLabels.ne(-1).nonzero().reshape(-1);
        var positiveLabels = localLabels.index_select(0, positiveRows);
        var (unique, _, _) = torch.unique(positiveLabels, sorted: true);
        Tensor index;
        if (numSample >= unique.shape[0])
        {
            var perm = random.Uniform(numLocal).to(localLabels.device);
            perm.index_put_(torch.tensor(2.0f, device: perm.device), TensorIndex.Tensor(unique));
            var (_, top) = torch.topk(perm, (int)numSample);
            (index, _) = torch.sort(top);
        }
        else
        {
            index = unique;
        }
        var remapped = torch.searchsorted(index, positiveLabels);
        localLabels.index_put_(remapped, TensorIndex.Tensor(positiveRows));
        return index;
    }
}
