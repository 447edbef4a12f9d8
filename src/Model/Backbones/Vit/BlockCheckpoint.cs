using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace ActorFace.Model.Backbones.Vit;

/// <summary>
/// Gradient checkpointing of one transformer block (torch.utils.checkpoint's reentrant variant): the forward runs
/// without building a graph and keeps only the block input; backward recomputes the block with grad enabled and
/// back-propagates through it, accumulating parameter gradients as usual. Drop path draws its masks from a
/// generator seeded per call so the recomputation sees the same masks as the forward.
/// </summary>
public sealed class BlockCheckpoint : SingleTensorFunction<BlockCheckpoint>
{
    public override string Name => "ViTBlockCheckpoint";

    /// <summary>Runs <paramref name="block"/> checkpointed, its drop path seeded from the global generator.</summary>
    public static Tensor Run(Block block, Tensor x) =>
        Run(block, x, randint(long.MaxValue, [1], dtype: ScalarType.Int64).item<long>());

    public static Tensor Run(Block block, Tensor x, long seed) => apply(x, block, seed);

    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var block = (Block)vars[1];
        var seed = (long)vars[2];
        ctx.save_for_backward([x]);
        ctx.save_data("block", block);
        ctx.save_data("seed", seed);
        return block.CallSeeded(x, seed);
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables()[0];
        var block = (Block)ctx.get_data("block");
        var seed = (long)ctx.get_data("seed");
        using var _ = enable_grad();
        using var input = saved.detach().requires_grad_(true);
        using var output = block.CallSeeded(input, seed);
        TorchSharp.torch.autograd.backward([output], [gradOutput]);
        // One entry per apply() argument: the block and the seed get none.
        return [input.grad!.detach().clone(), null!, null!];
    }
}
