using System.CommandLine;
using ActorFace.Host.Commands;
using ActorFace.Host.Monitoring;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Host.Tests.Security;

/// <summary>Audit: every listener binds loopback unless the user explicitly asks for another address.</summary>
public class ListenerDefaultsTests
{
    static readonly string[] AddressOptions = ["--hostname", "--host", "--bind", "--listen", "--http", "--public-hostname"];

    static IEnumerable<Command> Walk(Command c) => c.Subcommands.SelectMany(Walk).Prepend(c);

    [Fact]
    public void EveryAddressOptionOfEveryCommandDefaultsToLoopbackOrOff()
    {
        var checkedOptions = 0;
        foreach (var command in CommandCatalog.All().SelectMany(Walk))
            foreach (var option in command.Options.Where(o => AddressOptions.Contains(o.Name)))
            {
                checkedOptions++;
                var value = option.HasDefaultValue ? option.GetDefaultValue()?.ToString() : null;
                if (value is null) continue; // off, or taken from configuration (checked below where it exists)
                var host = option.Name == "--http" ? value[..value.LastIndexOf(':')] : value;
                Assert.True(NetworkExposure.IsLoopback(host), $"{command.Name} {option.Name} defaults to {value}, which is not loopback");
            }
        Assert.True(checkedOptions >= 2, "expected at least monitor's --hostname and --http");
    }

    [Theory]
    [InlineData("0.0.0.0:9100")]
    [InlineData("10.1.2.3:9100")]
    [InlineData("[::]:9100")]
    public void HttpMonitorRefusesNonLoopbackWithoutTheOptIn(string endpoint)
    {
        var e = Assert.Throws<ArgumentException>(() => HttpEndpoint.Parse(endpoint, allowRemote: false));
        Assert.Contains("--http-allow-remote", e.Message);
        Assert.False(System.Net.IPAddress.IsLoopback(HttpEndpoint.Parse(endpoint, allowRemote: true).Address));
    }
}
