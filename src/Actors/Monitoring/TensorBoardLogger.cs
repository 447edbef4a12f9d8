using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// Writes training scalars as TensorBoard event files through TorchSharp's SummaryWriter, under the same tags
/// arcface_torch uses (loss, learning_rate, {target}_accuracy). Usable directly from the training loop or as an
/// <see cref="IMetricSink"/> of a MonitorActor, where it logs each global step once however many ranks report it.
/// </summary>
public sealed class TensorBoardLogger : IMetricSink
{
    private readonly SummaryWriter _writer;
    private long _lastTrainingStep = long.MinValue;

    public TensorBoardLogger(string logDir)
    {
        if (string.IsNullOrWhiteSpace(logDir)) throw new ArgumentException("TensorBoardLogger: log directory is empty", nameof(logDir));
        _writer = SummaryWriter(logDir);
    }

    public string LogDir => _writer.LogDir;

    public void LogTraining(long globalStep, double loss, double learningRate)
    {
        var step = ToStep(globalStep);
        _writer.add_scalar("loss", (float)loss, step);
        _writer.add_scalar("learning_rate", (float)learningRate, step);
    }

    public void LogVerification(long globalStep, string target, double accuracy)
    {
        _writer.add_scalar($"{target}_accuracy", (float)accuracy, ToStep(globalStep));
    }

    public void Observe(IMonitorMetric metric)
    {
        switch (metric)
        {
            case WorkerMetrics { State: WorkerState.Training } w when w.GlobalStep != _lastTrainingStep && !double.IsNaN(w.Loss):
                _lastTrainingStep = w.GlobalStep;
                LogTraining(w.GlobalStep, w.Loss, w.LearningRate);
                break;
            case VerificationMetrics v:
                LogVerification(v.GlobalStep, v.Target, v.Accuracy);
                break;
        }
    }

    // SummaryWriter takes an int step; a run long enough to overflow it is a bug upstream, not a value to wrap.
    private static int ToStep(long globalStep) =>
        globalStep is < 0 or > int.MaxValue
            ? throw new ArgumentOutOfRangeException(nameof(globalStep), globalStep, "TensorBoard step must fit in an int")
            : (int)globalStep;
}
