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

    /// <summary>The scalars of one Event record (tensorflow/core/util/event.proto: step = 2, summary = 5;
    /// Summary.value = 1; Value.tag = 1, Value.simple_value = 2), decoded field by field so the test checks the
    /// exact tag strings a TensorBoard dashboard matches on.</summary>
    private static List<(long Step, string Tag, float Value)> Scalars(byte[] eventRecord)
    {
        var result = new List<(long, string, float)>();
        long step = 0;
        var summaries = new List<byte[]>();
        foreach (var (field, payload, varint) in Fields(eventRecord))
        {
            if (field == 2) step = (long)varint;
            if (field == 5) summaries.Add(payload!);
        }
        foreach (var summary in summaries)
            foreach (var (field, value, _) in Fields(summary))
            {
                if (field != 1) continue;
                string tag = "";
                float simple = float.NaN;
                foreach (var (f, p, _) in Fields(value!))
                {
                    if (f == 1) tag = System.Text.Encoding.UTF8.GetString(p!);
                    if (f == 2) simple = BitConverter.ToSingle(p!);
                }
                result.Add((step, tag, simple));
            }
        return result;
    }

    private static IEnumerable<(int Field, byte[]? Payload, ulong Varint)> Fields(byte[] message)
    {
        var pos = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[pos++];
                v |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return v;
            }
        }
        while (pos < message.Length)
        {
            var key = Varint();
            var field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: yield return (field, null, Varint()); break;
                case 1: yield return (field, message[pos..(pos + 8)], 0); pos += 8; break;
                case 2: { var n = (int)Varint(); yield return (field, message[pos..(pos + n)], 0); pos += n; break; }
                case 5: yield return (field, message[pos..(pos + 4)], 0); pos += 4; break;
                default: throw new InvalidDataException($"wire type {key & 7}");
            }
        }
    }

    private static List<(long Step, string Tag, float Value)> WrittenScalars(string dir)
    {
        var file = Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*"));
        var records = ReadRecords(file);
        Assert.Contains("brain.Event:2", System.Text.Encoding.ASCII.GetString(records[0]));
        return records.Skip(1).SelectMany(Scalars).ToList();
    }

    [Fact]
    public void WritesArcfaceTorchTagsOncePerStep()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actorface-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var logger = new TensorBoardLogger(dir);
            logger.Observe(SampleMetrics.Worker(0, 10, loss: 41.5) with { HoursLeft = 3.25 });
            logger.Observe(SampleMetrics.Worker(1, 10, loss: 41.5)); // same step from another rank: not logged twice
            logger.Observe(SampleMetrics.Worker(0, 20, loss: 39.0) with { HoursLeft = 3.0 });
            logger.Observe(SampleMetrics.Worker(0, 30, state: WorkerState.Recovering));
            logger.Observe(new VerificationMetrics("n", "lfw", 20, 0.93, 0.93, 0));
            logger.Observe(new VerificationMetrics("n", "cfp_fp", 20, 0.875, 0.875, 0));

            var scalars = WrittenScalars(dir);
            // utils_callbacks.py: CallBackLogging writes time_for_end, learning_rate, loss (in that order);
            // CallBackVerification writes add_scalar(tag=<target name>, Accuracy-Flip).
            Assert.Equal(
            [
                (10L, "time_for_end", 3.25f), (10L, "learning_rate", (float)(0.1 * (1 - 10 / 1000.0))), (10L, "loss", 41.5f),
                (20L, "time_for_end", 3.0f), (20L, "learning_rate", (float)(0.1 * (1 - 20 / 1000.0))), (20L, "loss", 39.0f),
                (20L, "lfw", 0.93f), (20L, "cfp_fp", 0.875f),
            ], scalars);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RecordsWithoutAnEtaWriteNoTimeForEnd()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actorface-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var logger = new TensorBoardLogger(dir);
            logger.Observe(SampleMetrics.Worker(0, 10, loss: 41.5));
            Assert.Equal(["learning_rate", "loss"], WrittenScalars(dir).Select(s => s.Tag));
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
}
