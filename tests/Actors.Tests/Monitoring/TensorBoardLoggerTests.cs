using System.Text;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Actors.Tests.Monitoring;

public class TensorBoardLoggerTests
{
    /// <summary>Reads TFRecord framing: u64 length, u32 crc, payload, u32 crc.</summary>
    private static List<byte[]> ReadRecords(string path)
    {
        var records = new List<byte[]>();
        using var reader = new BinaryReader(File.OpenRead(path));
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            var length = reader.ReadInt64();
            reader.ReadUInt32();
            records.Add(reader.ReadBytes(checked((int)length)));
            reader.ReadUInt32();
        }
        return records;
    }

    [Fact]
    public void WritesLossLrAndAccuracyOncePerStep()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actorface-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var logger = new TensorBoardLogger(dir);
            logger.Observe(SampleMetrics.Worker(0, 10, loss: 41.5));
            logger.Observe(SampleMetrics.Worker(1, 10, loss: 41.5)); // same step from another rank: not logged twice
            logger.Observe(SampleMetrics.Worker(0, 20, loss: 39.0));
            logger.Observe(SampleMetrics.Worker(0, 30, state: WorkerState.Recovering));
            logger.Observe(new VerificationMetrics("n", "lfw", 20, 0.93, 0.93, 0));

            var file = Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*"));
            var records = ReadRecords(file);
            var text = records.Select(r => Encoding.ASCII.GetString(r)).ToArray();

            Assert.Contains("brain.Event:2", text[0]);
            Assert.Equal(1 + 2 * 2 + 1, records.Count);
            Assert.Equal(2, text.Count(t => t.Contains("loss")));
            Assert.Equal(2, text.Count(t => t.Contains("learning_rate")));
            Assert.Single(text, t => t.Contains("lfw_accuracy"));
            // The scalar is stored as a float32 simple_value.
            Assert.Contains(records, r => ContainsFloat(r, 41.5f));
            Assert.Contains(records, r => ContainsFloat(r, 0.93f));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void StepsOutsideIntRangeAreRejected()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actorface-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var logger = new TensorBoardLogger(dir);
            Assert.Throws<ArgumentOutOfRangeException>(() => logger.LogTraining(-1, 1, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool ContainsFloat(byte[] record, float value)
    {
        var needle = BitConverter.GetBytes(value);
        for (var i = 0; i + 4 <= record.Length; i++)
            if (record.AsSpan(i, 4).SequenceEqual(needle)) return true;
        return false;
    }
}
