using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorFace.Actors.Monitoring;

namespace ActorFace.Host.Monitoring;

/// <summary>
/// A tiny read-only HTTP/1.1 server on a TcpListener (one request per connection, GET/HEAD only):
/// `/` the dashboard page, `/status` the snapshot as JSON, `/metrics` Prometheus text.
/// TcpListener rather than HttpListener: it binds port 0 (tests) and needs no URL ACL or prefix syntax.
/// </summary>
public sealed class MonitorHttpServer : IAsyncDisposable
{
    private const int MaxRequestHead = 16 * 1024;
    private readonly TcpListener _listener;
    private readonly Func<CancellationToken, Task<MonitorSnapshot>> _snapshot;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;

    public MonitorHttpServer(IPEndPoint endpoint, Func<CancellationToken, Task<MonitorSnapshot>> snapshot)
    {
        _listener = new TcpListener(endpoint);
        _snapshot = snapshot;
    }

    /// <summary>The bound address (the real port when 0 was asked for); valid after <see cref="Start"/>.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public string BaseUrl => $"http://{(Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Endpoint.Address}]" : Endpoint.Address)}:{Endpoint.Port}/";

    public MonitorHttpServer Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoop(_stop.Token);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _acceptLoop; } catch (OperationCanceledException) { } catch (ObjectDisposedException) { }
        _stop.Dispose();
    }

    private async Task AcceptLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(ct); }
            catch (Exception) when (ct.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            _ = Task.Run(() => Serve(client, ct), ct);
        }
    }

    private async Task Serve(TcpClient client, CancellationToken ct)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var stream = client.GetStream();
            var head = await ReadHead(stream, timeout.Token);
            var (status, type, body, headOnly) = head is null
                ? (400, "text/plain", "bad request\n", false)
                : await Route(head, timeout.Token);
            await Write(stream, status, type, headOnly ? [] : Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetByteCount(body), timeout.Token);
        }
        catch (Exception) when (timeout.IsCancellationRequested) { }
        catch (IOException) { }
        catch (SocketException) { }
    }

    private async Task<(int Status, string Type, string Body, bool HeadOnly)> Route(string requestLine, CancellationToken ct)
    {
        var parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return (400, "text/plain", "bad request\n", false);
        var (method, target) = (parts[0], parts[1]);
        if (method is not ("GET" or "HEAD")) return (405, "text/plain", "only GET and HEAD\n", false);
        var path = target.Split('?', 2)[0];
        var headOnly = method == "HEAD";
        switch (path)
        {
            case "/":
            case "/index.html":
                return (200, "text/html; charset=utf-8", StatusPage.Html, headOnly);
            case "/status":
            case "/metrics":
                MonitorSnapshot snapshot;
                try { snapshot = await _snapshot(ct); }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    return (503, "text/plain", $"monitor unavailable: {ex.Message}\n", headOnly);
                }
                return path == "/status"
                    ? (200, "application/json", MonitorSnapshotJson.Serialize(snapshot), headOnly)
                    : (200, PrometheusText.ContentType, PrometheusExporter.Render(snapshot), headOnly);
            default:
                return (404, "text/plain", "not found (try /, /status, /metrics)\n", headOnly);
        }
    }

    /// <summary>Reads up to the blank line ending the request head; returns the request line, or null if malformed.</summary>
    private static async Task<string?> ReadHead(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxRequestHead];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled), ct);
            if (n == 0) return null;
            filled += n;
            var text = Encoding.ASCII.GetString(buffer, 0, filled);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0) return text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
        }
        return null;
    }

    private static async Task Write(NetworkStream stream, int status, string type, byte[] body, int length, CancellationToken ct)
    {
        var reason = status switch { 200 => "OK", 400 => "Bad Request", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {type}\r\nContent-Length: {length}\r\n" +
                   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        if (body.Length > 0) await stream.WriteAsync(body, ct);
        await stream.FlushAsync(ct);
    }
}
