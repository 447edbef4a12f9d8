using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Security;
using ActorFace.Model.Security;
using Akka.Configuration;
using Xunit.Abstractions;

namespace ActorFace.Actors.Tests.Security;

/// <summary>Mutation fuzzing of HOCON parsing (Akka's parser, which reads every ActorFace config file).</summary>
public class HoconFuzzTests(ITestOutputHelper output)
{
    const string Seed = """
        actorface {
          network = r50
          embedding-size = 512
          margin-list = [1.0, 0.5, 0.0]
          sample-rate = 0.3
          batch-size = 128
          lr = 0.1
          rec = "/data/ms1m-retinaface-t1"
          val-targets = ["lfw", "cfp_fp", "agedb_30"]
          cluster { hostname = "127.0.0.1", port = 4053, seed-nodes = ["akka.tcp://actorface@127.0.0.1:4053"] }
          output = ${actorface.rec}"/out"
        }
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """;

    [Fact]
    public void MutatedHoconParsesOrFailsWithADocumentedError()
    {
        var seeds = new[] { System.Text.Encoding.UTF8.GetBytes(Seed), System.Text.Encoding.UTF8.GetBytes(MonitoringConfig.Hocon) };
        var report = new MutationFuzzer(seed: 31).Run(seeds, MutationFuzzer.CaseCount(300), bytes =>
        {
            // Parsing only: resolving every value of a mutated config can also spin in Akka (see docs/security.md).
            // A parse that needs SafeHocon's deadline is a finding too: it leaves a spinning thread behind.
            try { SafeHocon.Parse("fuzz.conf", System.Text.Encoding.UTF8.GetString(bytes), TimeSpan.FromSeconds(1)); }
            catch (ConfigurationException e) when (e.Message.Contains("did not finish")) { throw new TimeoutException(e.Message); }
        }, [typeof(ConfigurationException), typeof(FormatException)],
            TimeSpan.FromSeconds(10), maxAllocatedBytes: 64L << 20);
        output.WriteLine($"HOCON: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }

    [Theory]
    [InlineData("a = [1.0\\, 0.5]", "backslash")]
    [InlineData("a = [=]", "where a value was expected")]
    [InlineData("a = \"unterminated", "unterminated string")]
    [InlineData("a = [x = 1, 2]", "inside the list")]
    [InlineData("a { b = [1, 2 }", "does not close")]
    [InlineData("a = [1, 2", "never closed")]
    [InlineData("a = [!.0, 1]", "U+0021")]
    public void InputsThatHangAkkasParserAreRefusedFirst(string hocon, string reason)
    {
        var e = Assert.Throws<ConfigurationException>(() => SafeHocon.Parse("bad.conf", hocon));
        Assert.Contains("bad.conf: line 1", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ValidHoconStillParses()
    {
        var c = SafeHocon.Parse("ok.conf", "a = [1, 2] # c\nb = \"x\\\\y = [=]\"\nc = \"\"\"multi\nline\"\"\"\nd = ${a}\ne = ${?HOME}");
        Assert.Equal([1, 2], c.GetIntList("a"));
        Assert.Equal("x\\y = [=]", c.GetString("b"));
        Assert.Equal("multi\nline", c.GetString("c"));
    }
}
