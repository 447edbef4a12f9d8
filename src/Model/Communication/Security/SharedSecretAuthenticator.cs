using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;

namespace ActorFace.Model.Communication.Security;

/// <summary>
/// Mutual HMAC-SHA256 challenge-response over a fresh connection: both sides send a random nonce, then each
/// proves it holds the cluster secret with HMAC(key, role ‖ own nonce ‖ peer nonce). Roles differ in the MAC, so a
/// proof cannot be reflected back; nonces are fresh, so a recorded handshake cannot be replayed; proofs are compared
/// in constant time. Plug it into <see cref="Collectives.TcpCollectiveOptions.Authenticate"/> via <see cref="Hook"/>.
/// </summary>
public sealed class SharedSecretAuthenticator
{
    const int NonceBytes = 32, ProofBytes = 32;
    static ReadOnlySpan<byte> Magic => "AFS1"u8;

    readonly byte[] key;

    public SharedSecretAuthenticator(ClusterSecret secret, string purpose = "tcp-collective")
    {
        ArgumentNullException.ThrowIfNull(secret);
        key = secret.DeriveKey("auth:" + purpose);
    }

    /// <summary>The <see cref="Collectives.TcpCollectiveOptions.Authenticate"/> hook (socket, peer rank, is connector, ct).</summary>
    public Func<Socket, int, bool, CancellationToken, Task> Hook =>
        async (socket, peerRank, isConnector, ct) =>
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await AuthenticateAsync(stream, $"rank {peerRank}", isConnector, ct);
        };

    /// <summary>
    /// Runs the exchange; returns when the peer proved the secret, throws <see cref="AuthenticationException"/>
    /// when it did not (or sent something else), <see cref="IOException"/> when the connection broke.
    /// </summary>
    public async Task AuthenticateAsync(Stream stream, string peer, bool isConnector, CancellationToken ct)
    {
        var mine = new byte[Magic.Length + NonceBytes];
        Magic.CopyTo(mine);
        RandomNumberGenerator.Fill(mine.AsSpan(Magic.Length));
        await stream.WriteAsync(mine, ct);
        await stream.FlushAsync(ct);

        var theirs = new byte[Magic.Length + NonceBytes];
        await ReadExact(stream, theirs, peer, ct);
        if (!theirs.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new AuthenticationException($"{peer} did not answer the cluster-secret challenge (not an ActorFace node, or no secret configured)");
        if (CryptographicOperations.FixedTimeEquals(theirs, mine))
            throw new AuthenticationException($"{peer} echoed our challenge (reflection attempt)");

        var myNonce = mine[Magic.Length..];
        var theirNonce = theirs[Magic.Length..];
        await stream.WriteAsync(Proof(isConnector, myNonce, theirNonce), ct);
        await stream.FlushAsync(ct);

        var proof = new byte[ProofBytes];
        await ReadExact(stream, proof, peer, ct);
        var expected = Proof(!isConnector, theirNonce, myNonce);
        if (!CryptographicOperations.FixedTimeEquals(proof, expected))
            throw new AuthenticationException($"{peer} failed the cluster-secret check: it does not hold this cluster's secret");
    }

    byte[] Proof(bool connector, ReadOnlySpan<byte> ownNonce, ReadOnlySpan<byte> peerNonce)
    {
        Span<byte> message = stackalloc byte[1 + 2 * NonceBytes];
        message[0] = connector ? (byte)'C' : (byte)'A';
        ownNonce.CopyTo(message[1..]);
        peerNonce.CopyTo(message[(1 + NonceBytes)..]);
        return HMACSHA256.HashData(key, message);
    }

    static async Task ReadExact(Stream stream, Memory<byte> buffer, string peer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            int n = await stream.ReadAsync(buffer, ct);
            if (n == 0) throw new AuthenticationException($"{peer} closed the connection during the cluster-secret check");
            buffer = buffer[n..];
        }
    }
}
