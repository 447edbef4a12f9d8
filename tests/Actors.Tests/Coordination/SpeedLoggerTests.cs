using ActorFace.Actors.Logging;

namespace ActorFace.Actors.Tests.Coordination;

public sealed class SpeedLoggerTests
{
    [Fact]
    public void FirstLineComesAtTwiceFrequentAndAveragesTheLossSinceStart()
    {
        var now = 0.0;
        var logger = new SpeedLogger(frequent: 10, batchSize: 128, worldSize: 8, startStep: 0, totalStep: 1000, () => now);
        string? line = null;
        for (var step = 1; step <= 20; step++)
        {
            now = step * 0.5;
            line = logger.Step(step, loss: step, epoch: 0, nextLr: 0.0998) ?? line;
            if (step < 20) Assert.Null(line);
        }
        // 10 steps x 128 x 8 in 5 s; loss mean over steps 1..20; ETA int(10 s)/21 x (1000 - 20 - 1) / 3600.
        Assert.Equal("Speed 2048.00 samples/sec   Loss 10.5000   LearningRate 0.099800   Epoch: 0   Global Step: 20   Required: 0 hours", line);
        now = 20;
        Assert.Null(logger.Step(21, 1, 0, 0.1));
        for (var step = 22; step <= 30; step++) line = logger.Step(step, 1, 1, 0.1, gradScale: 65536);
        Assert.StartsWith("Speed 1024.00 samples/sec   Loss 1.0000   LearningRate 0.100000   Epoch: 1   Global Step: 30   Fp16 Grad Scale: 65536   Required: ", line);
    }
}
