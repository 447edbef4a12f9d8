using ActorFace.Actors.Monitoring;
using ActorFace.Actors.Security;
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
        var c = SafeHocon.Parse("ok.conf", "a = [1, 2] # c\nb = \"x\\\\y = [=]\"\nc = \"\"\"multi\nline\"\"\"\nd = ${a}");
        Assert.Equal([1, 2], c.GetIntList("a"));
        Assert.Equal("x\\y = [=]", c.GetString("b"));
        Assert.Equal("multi\nline", c.GetString("c"));
    }
    [Fact] // Akka 1.5 resolves ${?X} to the whole document: a cycle through the key itself
    public void OptionalSubstitutionsAreRefusedNamingTheKey()
    {
        var e = Assert.Throws<ConfigurationException>(() => SafeHocon.Parse("opt.conf", "a { home = ${?HOME} }"));
        Assert.StartsWith("opt.conf: 'a.home': optional substitutions ${?...} are not supported", e.Message);
    }

    [Theory] // issue 16: each of these killed the process with a stack overflow
    [InlineData("a = ${a}", "'a' refers to itself: a -> ${a}")]
    [InlineData("a = 1\na = ${a}", "'a' refers to itself: a -> ${a}")]
    [InlineData("a = ${b}\nb = ${a}", "'a' refers to itself: a -> ${b} -> ${a}")]
    [InlineData("a { x = ${a} }", "'a' refers to itself: a -> a.x -> ${a}")]
    [InlineData("a = [1, ${a}]", "'a' refers to itself: a -> a[1] -> ${a}")]
    public void SelfReferencesAreRefusedNamingTheKey(string hocon, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => SafeHocon.Parse("cyclic.conf", hocon));
        Assert.StartsWith("cyclic.conf: " + expected, e.Message);
    }

    public static TheoryData<string, string> TooDeep => new()
    {
        { "x = " + string.Concat(Enumerable.Repeat("{a=", 50_000)) + "1" + new string('}', 50_000), "nesting deeper than 100" },
        { "x = " + new string('[', 50_000) + "1" + new string(']', 50_000), "nesting deeper than 100" },
        { string.Join('.', Enumerable.Repeat("a", 50_000)) + " = 1", "nesting deeper than 100" },
        { string.Join('.', Enumerable.Repeat("\"a\"", 50_000)) + " = 1", "nesting deeper than 100" },
        { string.Concat(Enumerable.Range(0, 5_000).Select(i => $"a{i} = ${{a{i + 1}}}\n")) + "a5000 = 1", "more than 100 levels deep" },
    };

    [Theory] // issue 16: 50,000 levels overflowed the stack inside Akka's parser
    [MemberData(nameof(TooDeep))]
    public void NestingBeyondTheLimitIsRefusedWithoutRecursing(string hocon, string expected)
    {
        string? message = null;
        var outcome = MutationFuzzer.RunOne([], _ =>
        {
            try { SafeHocon.Parse("deep.conf", hocon); }
            catch (ConfigurationException e) { message = e.Message; throw; }
        }, [typeof(ConfigurationException)], TimeSpan.FromSeconds(20));
        Assert.Null(outcome);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void NestingUpToTheLimitStillParses()
    {
        var depth = SafeHocon.MaxDepth - 2;
        var config = SafeHocon.Parse("ok.conf", "x = " + string.Concat(Enumerable.Repeat("{a=", depth)) + "1" + new string('}', depth));
        Assert.Equal(1, config.GetInt("x" + string.Concat(Enumerable.Repeat(".a", depth))));
    }

    [Theory] // issue 16: Akka failed with a NullReferenceException without an include callback
    [InlineData("include \"base.conf\"\na = 1")]
    [InlineData("a { include required(\"base.conf\") }")]
    [InlineData("include file(\"/etc/passwd\")")]
    public void IncludeIsRefusedWithTheLine(string hocon)
    {
        var e = Assert.Throws<ConfigurationException>(() => SafeHocon.Parse("job.conf", hocon));
        Assert.StartsWith("job.conf: line 1: 'include' is not supported", e.Message);
        Assert.Equal(2, SafeHocon.Parse("ok.conf", "include = 2").GetInt("include")); // a key named include is fine
    }

    /// <summary>Substitutions and deep nesting that mutations turn into cycles, dangling references and over-deep trees.</summary>
    static readonly string SubstitutionSeed =
        "a { b = 1, c = ${a.b}, d = ${a.c} }\nx = ${a}\ny = [${x}, ${a.d}]\nz = \"s\"${a.b}\n" +
        "deep = " + string.Concat(Enumerable.Repeat("{k=", SafeHocon.MaxDepth - 3)) + "1" + new string('}', SafeHocon.MaxDepth - 3) + "\n";

    [Fact]
    public void MutatedSubstitutionsAndNestingParseOrFailWithADocumentedError()
    {
        var report = new MutationFuzzer(seed: 37).Run([System.Text.Encoding.UTF8.GetBytes(SubstitutionSeed)], MutationFuzzer.CaseCount(300), bytes =>
        {
            try { SafeHocon.Parse("fuzz.conf", System.Text.Encoding.UTF8.GetString(bytes), TimeSpan.FromSeconds(1)); }
            catch (ConfigurationException e) when (e.Message.Contains("did not finish")) { throw new TimeoutException(e.Message); }
        }, [typeof(ConfigurationException), typeof(FormatException)], TimeSpan.FromSeconds(10), maxAllocatedBytes: 64L << 20);
        output.WriteLine($"HOCON substitutions: {report}");
        Assert.True(report.Failures == 0, report.ToString());
    }
}
