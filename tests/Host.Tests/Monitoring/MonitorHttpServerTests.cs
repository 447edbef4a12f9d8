using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorFace.Actors.Monitoring;
using ActorFace.Host.Monitoring;

namespace ActorFace.Host.Tests.Monitoring;

public class MonitorHttpServerTests
{
    internal static MonitorHttpServer Serve(MonitorState state) =>
        new MonitorHttpServer(new IPEndPoint(IPAddress.Loopback, 0), _ => Task.FromResult(state.Snapshot(DateTime.UtcNow))).Start();

    [Fact]
    public async Task ServesStatusMetricsAndThePage()
    {
        await using var server = Serve(SampleSnapshot.State());
        using var client = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
        Assert.NotEqual(0, server.Endpoint.Port);

        var status = await client.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("application/json", status.Content.Headers.ContentType!.MediaType);
        var snapshot = MonitorSnapshotJson.Deserialize(await status.Content.ReadAsStringAsync());
        Assert.Equal([0, 1], snapshot.Workers.Select(w => w.Latest.Rank));
        Assert.Equal(ClusterEventKind.Recovered, snapshot.RecentEvents[0].Kind);

        var metrics = await client.GetAsync("/metrics");
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType!.MediaType);
        Assert.Equal("0.0.4", metrics.Content.Headers.ContentType.Parameters.Single(p => p.Name == "version").Value);
        var (_, samples) = PrometheusExporterTests.Parse(await metrics.Content.ReadAsStringAsync());
        Assert.Equal(2, samples.Count(s => s.Name == "actorface_worker_loss"));

        var page = await client.GetStringAsync("/");
        Assert.Contains("<table id=\"ranks\">", page);
        Assert.DoesNotContain("http://", page.Replace("http://127.0.0.1", ""));
        Assert.DoesNotContain("<script src", page);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.PostAsync("/status", new StringContent("x"))).StatusCode);
    }

    [Fact]
    public async Task GarbageRequestGetsBadRequestAndServerKeepsServing()
    {
        await using var server = Serve(new MonitorState());
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(server.Endpoint);
            var stream = raw.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("NONSENSE\r\n\r\n"));
            var reply = await new StreamReader(stream).ReadToEndAsync();
            Assert.StartsWith("HTTP/1.1 400", reply);
        }
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(server.BaseUrl + "status")).StatusCode);
    }

    [Fact]
    public async Task FailingSnapshotSourceAnswers503()
    {
        await using var server = new MonitorHttpServer(new IPEndPoint(IPAddress.Loopback, 0),
            _ => Task.FromException<MonitorSnapshot>(new TimeoutException("monitor actor did not answer"))).Start();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var response = await client.GetAsync(server.BaseUrl + "metrics");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("did not answer", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("127.0.0.1:9100", false, "127.0.0.1", 9100)]
    [InlineData("localhost:0", false, "127.0.0.1", 0)]
    [InlineData("[::1]:9100", false, "::1", 9100)]
    [InlineData("0.0.0.0:9100", true, "0.0.0.0", 9100)]
    public void ParsesEndpoints(string text, bool allowRemote, string address, int port)
    {
        var endpoint = HttpEndpoint.Parse(text, allowRemote);
        Assert.Equal((IPAddress.Parse(address), port), (endpoint.Address, endpoint.Port));
    }

    [Fact]
    public void RefusesNonLoopbackWithoutExplicitPermissionAndBadSyntax()
    {
        Assert.Contains("--http-allow-remote", Assert.Throws<ArgumentException>(() => HttpEndpoint.Parse("0.0.0.0:9100", false)).Message);
        Assert.Contains("HOST:PORT", Assert.Throws<FormatException>(() => HttpEndpoint.Parse("9100", false)).Message);
        Assert.Contains("not an IP address", Assert.Throws<FormatException>(() => HttpEndpoint.Parse("example.org:80", false)).Message);
    }
}
