using System.Diagnostics;
using System.Globalization;

namespace ActorFace.Actors.Logging;

/// <summary>
/// arcface_torch's CallBackLogging + AverageMeter (spec §5.7): acts every `frequent` steps; the first time only starts
/// the timer (the loss average is not reset, so the first line covers steps 1 … 2·frequent); afterwards one line
/// with the speed of all ranks, the running mean loss, the next LR, the epoch, the step and the ETA.
/// </summary>
public sealed class SpeedLogger
{
    private readonly int _frequent;
    private readonly int _batchSize;
    private readonly int _worldSize;
    private readonly long _startStep;
    private readonly long _totalStep;
    private readonly Func<double> _clockSeconds;
    private readonly double _startTime;
    private double? _tic;
    private double _lossSum;
    private long _lossCount;

    public SpeedLogger(int frequent, int batchSize, int worldSize, long startStep, long totalStep, Func<double>? clockSeconds = null)
    {
        _frequent = frequent;
        _batchSize = batchSize;
        _worldSize = worldSize;
        _startStep = startStep;
        _totalStep = totalStep;
        if (clockSeconds is null)
        {
            var sw = Stopwatch.StartNew();
            clockSeconds = () => sw.Elapsed.TotalSeconds;
        }
        _clockSeconds = clockSeconds;
        _startTime = _clockSeconds();
    }

    public double LastSamplesPerSecond { get; private set; }
    public double LastLossAverage { get; private set; }
    /// <summary>The ETA of the last line in hours (arcface_torch's TensorBoard `time_for_end`).</summary>
    public double LastHoursLeft { get; private set; } = double.NaN;

    /// <summary>Records the step's loss; returns the log line (without the logging prefix) when one is due.</summary>
    public string? Step(long globalStep, double loss, int epoch, double nextLr, double gradScale = double.NaN)
    {
        _lossSum += loss;
        _lossCount++;
        if (globalStep <= 0 || globalStep % _frequent != 0)
            return null;
        var now = _clockSeconds();
        if (_tic is null)
        {
            _tic = now;
            return null;
        }
        var elapsed = Math.Max(now - _tic.Value, 1e-9);
        var speedTotal = _frequent * _batchSize / elapsed * _worldSize;
        var timeSec = (int)(now - _startTime);
        var avg = timeSec / (double)(globalStep - _startStep + 1);
        var hoursLeft = avg * (_totalStep - globalStep - 1) / 3600;
        var lossAvg = _lossSum / _lossCount;
        LastSamplesPerSecond = speedTotal;
        LastLossAverage = lossAvg;
        LastHoursLeft = hoursLeft;
        _lossSum = 0;
        _lossCount = 0;
        _tic = now;
        var c = CultureInfo.InvariantCulture;
        var scale = double.IsNaN(gradScale) ? "" : string.Format(c, "Fp16 Grad Scale: {0,2:F0}   ", gradScale);
        return string.Format(c, "Speed {0:F2} samples/sec   Loss {1:F4}   LearningRate {2:F6}   Epoch: {3}   Global Step: {4}   {5}Required: {6:F0} hours",
            speedTotal, lossAvg, nextLr, epoch, globalStep, scale, hoursLeft);
    }
}
