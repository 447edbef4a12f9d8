using TorchSharp.Modules;
using static TorchSharp.torch.utils.tensorboard;

namespace ActorFace.Actors.Monitoring;

/// <summary>
/// Writes training scalars as TensorBoard event files through TorchSharp's SummaryWriter, under exactly the tags
/// arcface_torch writes (spec §5.7, utils_callbacks.py), so existing dashboards keep working: CallBackLogging's
/// `time_for_end` (ETA, hours), `learning_rate` and `loss` (the running mean since the previous log line) every
/// `frequent` steps, and CallBackVerification's Accuracy-Flip under the target's own name (`lfw`, `cfp_fp`, ...).
/// Usable directly from the training loop or as an <see cref="IMetricSink"/> of a MonitorActor, where it logs each
/// global step once however many ranks report it.
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

    /// <summary>The tag of a training scalar, as CallBackLogging names it.</summary>
    public const string LossTag = "loss", LearningRateTag = "learning_rate", TimeForEndTag = "time_for_end";

    /// <summary>CallBackLogging's three scalars, in its order; <paramref name="hoursLeft"/> NaN (unknown) writes no time_for_end.</summary>
    public void LogTraining(long globalStep, double loss, double learningRate, double hoursLeft = double.NaN)
    {
        var step = ToStep(globalStep);
        if (!double.IsNaN(hoursLeft))
            _writer.add_scalar(TimeForEndTag, (float)hoursLeft, step);
        _writer.add_scalar(LearningRateTag, (float)learningRate, step);
        _writer.add_scalar(LossTag, (float)loss, step);
    }

    /// <summary>CallBackVerification: the tag is the target's name itself (`lfw`), the value its Accuracy-Flip.</summary>
    public void LogVerification(long globalStep, string target, double accuracy)
    {
        _writer.add_scalar(target, (float)accuracy, ToStep(globalStep));
    }

    public void Observe(IMonitorMetric metric)
    {
        switch (metric)
        {
            case WorkerMetrics { State: WorkerState.Training } w when w.GlobalStep != _lastTrainingStep && !double.IsNaN(w.Loss):
                _lastTrainingStep = w.GlobalStep;
                LogTraining(w.GlobalStep, w.Loss, w.LearningRate, w.HoursLeft);
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
