using ActorFace.Model.Losses;
using ActorFace.Model.Training;
using TorchSharp;
using ActorFace.Model.Communication.Collectives;
using static TorchSharp.torch;

namespace ActorFace.Model.PartialFC;

/// <summary>
/// One rank's part of PartialFC_V2 (spec §3): the class centres [num_local, D] of its contiguous class range, their
/// optimiser state, and the forward/backward of a step through an <see cref="ICollective"/>. Gradients of the centres
/// accumulate until <see cref="Step"/>: as rows of the sampled centres when the update is deferred
/// (<see cref="DeferredRowSgd"/>), otherwise in <see cref="Weight"/>.grad (dense; unselected rows zero).
/// </summary>
public sealed partial class PartialFCShard : IDisposable
{
    /// <summary>Classes per independently seeded initialisation block.</summary>
    public const long InitBlockClasses = 4096;

    readonly ISampleRandom random;
    readonly bool ownsRandom;
    long? batchSize;
    // Rows of Weight.grad written since the last ZeroGrad; null = possibly every row (sample_rate 1 or unknown).
    List<Tensor>? touchedRows = new();
    readonly DeferredRowSgd? deferred;
    // With the deferred update: (sampled rows, their gradient) of each forward since the last ZeroGrad.
    readonly List<(Tensor Rows, Tensor Grad)> sampledGrads = new();

    public ShardLayout Layout { get; }
    public int EmbeddingSize { get; }
    public CombinedMarginLoss Margin { get; }
    public PartialFCOptions Options { get; }
    public long NumSample { get; }
    /// <summary>The centres. With the deferred update, rows not sampled lately lag behind: <see cref="Synchronize"/> first.</summary>
    public Tensor Weight { get; }
    public ParameterOptimizer Optimizer { get; }

    /// <summary>The centres used by the last step (weight_index of the reference); null when sample_rate = 1.</summary>
    public Tensor? LastIndex { get; private set; }

    /// <summary>Optional per-phase wall-clock timer (bench pfc --profile); null costs nothing.</summary>
    public PhaseTimer? Profile { get; set; }

    public PartialFCShard(ShardLayout layout, int embeddingSize, CombinedMarginLoss margin, PartialFCOptions options,
        ISampleRandom? random = null, Tensor? initialWeight = null)
    {
        if (embeddingSize < 1) throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "embedding_size must be >= 1");
        (Layout, EmbeddingSize, Margin, Options) = (layout, embeddingSize, margin, options);
        NumSample = layout.NumSample(options.SampleRate);
        var device = options.Device ?? CPU;
        if (random is null) { this.random = new TorchSampleRandom(options.InitSeed, device); ownsRandom = true; }
        else this.random = random;

        Tensor w;
        if (initialWeight is null) w = InitialWeight(layout, embeddingSize, options.InitSeed);
        else
        {
            if (!initialWeight.shape.SequenceEqual(new[] { layout.NumLocal, (long)embeddingSize }))
                throw new ArgumentException($"initial weight shape [{string.Join(",", initialWeight.shape)}] != [{layout.NumLocal},{embeddingSize}] (num_local, D)");
            w = initialWeight.detach().to_type(ScalarType.Float32).clone();
        }
        if (w.device_type != device.type || w.device_index != device.index) w = w.to(device);
        Weight = w.requires_grad_(true).DetachFromDisposeScope();
        Optimizer = ParameterOptimizer.Create(options.Optimizer, new[] { Weight }, options.WeightDecay, options.Momentum);
        if (options is { DeferredUpdate: true, SampleRate: < 1 } && device.type == DeviceType.CPU && Optimizer is SgdOptimizer { Momentum: not 0 } sgd)
            deferred = new DeferredRowSgd(Weight, sgd);
    }

    /// <summary>Brings every centre up to date (a no-op unless the update is deferred).</summary>
    public void Synchronize() => deferred?.Flush();

    /// <summary>d loss/d centres accumulated since the last ZeroGrad as a dense [num_local, D] tensor (a new tensor when
    /// the update is deferred, Weight.grad otherwise; null before the first backward).</summary>
    public Tensor? CentreGradient()
    {
        if (deferred is null) return Weight.grad;
        if (sampledGrads.Count == 0) return null;
        using var scope = torch.NewDisposeScope();
        var (rows, grads) = SampledRowGrads();
        return torch.zeros_like(Weight).index_copy_(0, rows, grads).MoveToOuterDisposeScope();
    }

    /// <summary>The centre gradients accumulated since the last ZeroGrad as they are stored (the sampled rows' gradients
    /// when the update is deferred, else Weight.grad), for the GradScaler to unscale and check in place.</summary>
    public IEnumerable<Tensor> PendingGradients() =>
        deferred is not null ? sampledGrads.Select(g => g.Grad)
        : Weight.grad is { } grad ? new[] { grad } : Array.Empty<Tensor>();

    /// <summary>
    /// N(0, 0.01) rows for classes [ClassStart, ClassEnd): each block of <see cref="InitBlockClasses"/> global classes
    /// is drawn from its own generator, so the same seed gives the same centres for any world size.
    /// </summary>
    public static Tensor InitialWeight(ShardLayout layout, int embeddingSize, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (var block = layout.ClassStart / InitBlockClasses; block * InitBlockClasses < layout.ClassEnd; block++)
        {
            var blockStart = block * InitBlockClasses;
            var blockRows = Math.Min(InitBlockClasses, layout.NumClasses - blockStart);
            using var gen = new Generator(Mix(seed, block));
            var values = torch.randn(new[] { blockRows, (long)embeddingSize }, ScalarType.Float32, generator: gen).mul_(0.01);
            var from = Math.Max(layout.ClassStart, blockStart) - blockStart;
            var to = Math.Min(layout.ClassEnd, blockStart + blockRows) - blockStart;
            parts.Add(values.narrow(0, from, to - from));
        }
        return torch.cat(parts, 0).contiguous().MoveToOuterDisposeScope();
    }

    static ulong Mix(long seed, long block)
    {
        // splitmix64 of (seed, block): decorrelates neighbouring blocks and seeds.
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)block + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>
    /// One Partial FC forward and backward (spec §3.2–3.6) for this rank's local batch. All ranks must call it in lock
    /// step with equal batch sizes. Accumulates d loss/d weight into Weight.grad and returns the loss (identical on all
    /// ranks) plus the gradient for the local embeddings, already reduce-scattered and multiplied by W.
    /// <paramref name="upstream"/> is the gradient of the returned loss (a loss scale, 1 normally).
    /// </summary>
    public PartialFCResult ForwardBackward(Tensor embeddings, Tensor labels, ICollective collective, double upstream = 1.0)
    {
        CheckInputs(embeddings, labels, collective);
        using var scope = torch.NewDisposeScope();
        long b = embeddings.shape[0], w = collective.WorldSize;

        Profile?.Begin("all-gather");
        var gathered = collective.AllGather(embeddings.detach().to_type(ScalarType.Float32).contiguous());
        var allLabels = collective.AllGather(labels.reshape(-1).to_type(ScalarType.Int64).contiguous());
        if (gathered.shape[0] != b * w || allLabels.shape[0] != b * w)
            throw new InvalidOperationException($"Partial FC: gathered {gathered.shape[0]} embeddings / {allLabels.shape[0]} labels, expected W·B = {w}·{b}; every rank must use the same batch size");

        Profile?.Begin("labels+sample");
        Tensor local;
        using (torch.no_grad())
        {
            var positive = allLabels.ge(Layout.ClassStart).logical_and_(allLabels.lt(Layout.ClassEnd));
            local = (allLabels - Layout.ClassStart).masked_fill_(positive.logical_not_(), -1);
        }

        Tensor centres;
        Tensor? index = null;
        long columns = Layout.NumLocal;
        if (Options.SampleRate < 1)
        {
            LastIndex?.Dispose();
            index = ClassSampler.Sample(local, Layout.NumLocal, NumSample, random);
            LastIndex = index.detach().clone().DetachFromDisposeScope();
            columns = index.shape[0];
            Profile?.Begin("gather rows");
            deferred?.CatchUp(index);
            centres = Weight.detach().index_select(0, index);
        }
        else centres = Weight.detach();

        Profile?.Begin("cosines fwd");
        var cosines = NormalizedCosines.Forward(gathered, centres);
        float loss;
        // The one [N, K] buffer: cosines -> margin logits -> probabilities -> gradient, all in place.
        var buffer = cosines.Cosines;
        Profile?.Begin("margin+softmax");
        using (torch.no_grad())
        {
            Tensor? outside = null;
            // One host read (not two): on a GPU each read waits for the queued kernels.
            if (buffer.numel() > 0 && torch.stack(new[] { buffer.max(), buffer.min().neg() }).max().item<float>() > 1f)
                outside = buffer.lt(-1).logical_or_(buffer.gt(1));
            buffer.clamp_(-1, 1);
            var filtered = Margin.ApplyInPlace(buffer, local);
            loss = DistributedSoftmaxCrossEntropy.ForwardBackwardInPlace(buffer, local, collective, upstream);
            // Straight-through margin: d logit / d cos = s; clamp and filtering zero their entries.
            buffer.mul_(Margin.S);
            if (filtered is not null) buffer.masked_fill_(filtered, 0.0);
            if (outside is not null) buffer.masked_fill_(outside, 0.0);
        }
        Profile?.Begin("cosines bwd");
        var (embeddingGrad, centreGrad) = cosines.Backward(buffer);
        Profile?.Begin("grad scatter");
        AccumulateCentreGrad(index, centreGrad);

        // All-gather backward (§3.6): rank k sums every rank's k-th [B, D] slice, then ×W so that the DDP-style
        // gradient average over ranks (÷W) yields the exact gradient of the global-mean loss.
        Profile?.Begin("reduce-scatter");
        var grad = collective.ReduceScatter(embeddingGrad.contiguous(), ReduceOp.Sum);
        grad.mul_(w);
        Profile?.End();
        return new PartialFCResult(loss, grad.MoveToOuterDisposeScope(), columns);
    }

    void AccumulateCentreGrad(Tensor? index, Tensor centreGrad)
    {
        using var noGrad = torch.no_grad();
        if (index is null)
        {
            DropTouchedRows();
            if (Weight.grad is null) Weight.grad = centreGrad.DetachFromDisposeScope();
            else Weight.grad.add_(centreGrad);
        }
        else if (deferred is not null)
            sampledGrads.Add((index.clone().DetachFromDisposeScope(), centreGrad.DetachFromDisposeScope()));
        else
        {
            if (Weight.grad is null) Weight.grad = torch.zeros_like(Weight).DetachFromDisposeScope();
            // index_add_ on CPU runs one add per row (≈10 µs each); onto rows known to be zero a copy is the same
            // sum (index is unique), and accumulation uses the element-wise index_put_ kernel.
            if (touchedRows is { Count: 0 }) Weight.grad.index_copy_(0, index, centreGrad);
            else Weight.grad.index_put_(centreGrad, new[] { TensorIndex.Tensor(index) }, accumulate: true);
            touchedRows?.Add(index.clone().DetachFromDisposeScope());
        }
    }

    void CheckInputs(Tensor embeddings, Tensor labels, ICollective collective)
    {
        if (collective.WorldSize != Layout.WorldSize || collective.Rank != Layout.Rank)
            throw new InvalidOperationException($"Partial FC shard is rank {Layout.Rank}/{Layout.WorldSize} but the collective is rank {collective.Rank}/{collective.WorldSize}");
        if (embeddings.dim() != 2 || embeddings.shape[1] != EmbeddingSize)
            throw new ArgumentException($"Partial FC: embeddings must be [B, {EmbeddingSize}], got [{string.Join(",", embeddings.shape)}]");
        if (labels.numel() != embeddings.shape[0] || (labels.dim() == 2 && labels.shape[1] != 1) || labels.dim() > 2)
            throw new ArgumentException($"Partial FC: labels must be [B] or [B,1] with B = {embeddings.shape[0]}, got [{string.Join(",", labels.shape)}]");
        if (labels.dtype == ScalarType.Bool) throw new ArgumentException("Partial FC: labels must be numeric, got bool");
        batchSize ??= embeddings.shape[0];
        if (embeddings.shape[0] != batchSize)
            throw new InvalidOperationException($"Partial FC: batch size changed from {batchSize} to {embeddings.shape[0]}; loaders must drop the last incomplete batch");
    }

    /// <summary>Optimiser update of the whole dense shard (weight decay and momentum also move unselected rows).</summary>
    public void Step(double lr)
    {
        Profile?.Begin("optimizer step");
        if (deferred is not null)
        {
            using var scope = torch.NewDisposeScope();
            var (rows, grads) = SampledRowGrads();
            deferred.Step(rows, grads, lr);
        }
        else if (Optimizer is SgdOptimizer { Momentum: not 0 } sgd && Weight.grad is { } grad
            && sgd.GetState(0).TryGetValue("momentum_buffer", out var buffer) && RowSparseSgd.Supports(Weight, grad, buffer))
        {
            using var scope = torch.NewDisposeScope();
            Tensor? rows = touchedRows is null ? null
                : touchedRows.Count == 0 ? torch.empty(0, ScalarType.Int64, Weight.device)
                : UniqueRows(touchedRows);
            RowSparseSgd.Step(Weight, grad, buffer, rows, lr, sgd.Momentum, sgd.WeightDecay);
        }
        else Optimizer.Step(lr); // first step creates the momentum buffer; AdamW stays dense
        Profile?.End();
    }

    /// <summary>The sampled rows since the last ZeroGrad (sorted, unique) and their summed gradients.</summary>
    (Tensor Rows, Tensor Grads) SampledRowGrads()
    {
        if (sampledGrads.Count == 0)
            return (torch.empty(0, ScalarType.Int64, Weight.device), torch.empty(new[] { 0L, EmbeddingSize }, ScalarType.Float32, Weight.device));
        if (sampledGrads.Count == 1) return sampledGrads[0];
        var (rows, inverse, _) = torch.unique(torch.cat(sampledGrads.Select(g => g.Rows).ToList(), 0), sorted: true, return_inverse: true);
        var grads = torch.zeros(new[] { rows.shape[0], EmbeddingSize }, ScalarType.Float32, Weight.device).index_add_(0, inverse!, torch.cat(sampledGrads.Select(g => g.Grad).ToList(), 0), 1.0);
        return (rows, grads);
    }

    public void ZeroGrad()
    {
        Profile?.Begin("zero grad");
        DropSampledGrads();
        if (touchedRows is not null && Weight.grad is { } grad)
        {
            // Only the written rows can be non-zero: refill them instead of the whole shard.
            if (touchedRows.Count > 0)
                using (var scope = torch.NewDisposeScope())
                using (torch.no_grad())
                    grad.index_fill_(0, torch.cat(touchedRows, 0), 0.0);
        }
        else Optimizer.ZeroGrad();
        DropTouchedRows();
        touchedRows = new();
        Profile?.End();
    }

    static Tensor UniqueRows(List<Tensor> parts)
    {
        var (unique, _, _) = torch.unique(torch.cat(parts, 0), sorted: true);
        return unique;
    }

    void DropSampledGrads()
    {
        foreach (var (rows, grad) in sampledGrads) { rows.Dispose(); grad.Dispose(); }
        sampledGrads.Clear();
    }

    void DropTouchedRows()
    {
        touchedRows?.ForEach(t => t.Dispose());
        touchedRows = null;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        DropSampledGrads();
        DropTouchedRows();
        LastIndex?.Dispose();
        Weight.Dispose();
        if (ownsRandom) ((IDisposable)random).Dispose();
    }
}
