using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace ActorFace.Model.Communication.Security;

/// <summary>
/// Mutual TLS for the TCP collective: the <see cref="Collectives.TcpCollectiveOptions.WrapStream"/> hook that turns
/// each ring connection into an <see cref="SslStream"/> (TLS 1.2/1.3, both sides present certificates, peers are
/// checked by <see cref="TlsCredentials.Validate"/>). Tensor bytes then travel encrypted and integrity-protected.
/// </summary>
public static class CollectiveTls
{
    const byte Accepted = 0xA5;
    const string TargetHost = "actorface-collective"; // names are not checked: peers are addressed by IP

    public static Func<Socket, int, bool, CancellationToken, Task<Stream>> Wrap(TlsCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        return async (socket, peerRank, isConnector, ct) =>
        {
            string? refusal = null;
            bool Check(object _, System.Security.Cryptography.X509Certificates.X509Certificate? cert,
                       System.Security.Cryptography.X509Certificates.X509Chain? __, SslPolicyErrors errors)
            {
                if (credentials.Validate(cert, errors, out var reason)) return true;
                refusal = reason;
                return false;
            }
            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false, Check);
            try
            {
                if (isConnector)
                    await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = TargetHost,
                        ClientCertificates = [credentials.Certificate],
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    }, ct);
                else
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = credentials.Certificate,
                        ClientCertificateRequired = true,
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    }, ct);
                // With TLS 1.3 the client finishes its handshake before the server has judged the client
                // certificate; one confirmation byte makes a refused client fail here, not at its first tensor.
                if (isConnector)
                {
                    var ack = new byte[1];
                    if (await ssl.ReadAsync(ack, ct) != 1 || ack[0] != Accepted)
                        throw new AuthenticationException("the peer closed the connection: it refused our certificate");
                }
                else
                {
                    await ssl.WriteAsync(new[] { Accepted }, ct);
                    await ssl.FlushAsync(ct);
                }
                return ssl;
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                await ssl.DisposeAsync();
                throw new AuthenticationException($"TLS with rank {peerRank} failed: {refusal ?? e.Message}", e);
            }
            catch
            {
                await ssl.DisposeAsync();
                throw;
            }
        };
    }
}
