using System.Collections;
using ActorFace.Host.Configuration;

namespace ActorFace.Host.Tests.Configuration;

public sealed class ShippedConfigTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "hocon"), "*.conf").Order())
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryShippedConfigLoads(string name)
    {
        var s = TrainingConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "hocon", name), null, new Hashtable()).Settings;
        Assert.Equal(Path.GetFileNameWithoutExtension(name), s.ConfigName);
        Assert.True(s.NumClasses > 0 && s.NumImage > 0);
    }

    [Fact]
    public void PortedConfigsKeepArcfaceValues()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "hocon");
        var glint = TrainingConfigLoader.Load(Path.Combine(dir, "glint360k_r100.conf"), null, new Hashtable()).Settings;
        Assert.Equal((1.0, 0.0, 0.4), (glint.MarginList.M1, glint.MarginList.M2, glint.MarginList.M3));
        Assert.Equal((360232, 17091657L, 1e-4), (glint.NumClasses, glint.NumImage, glint.WeightDecay));
        var wf42 = TrainingConfigLoader.Load(Path.Combine(dir, "wf42m_pfc02_r100.conf"), null, new Hashtable()).Settings;
        Assert.Equal((0.2, 2059906, 10000), (wf42.SampleRate, wf42.NumClasses, wf42.Verbose));
        Assert.Equal(Path.Combine("work_dirs", "wf42m_pfc02_r100"), wf42.OutputDirectory);
    }
}
