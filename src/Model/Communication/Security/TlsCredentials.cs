using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorFace.Model.Formats;

namespace ActorFace.Model.Communication.Security;

/// <summary>
/// This node's certificate (with private key) and the rule that decides which peers are trusted, for mutual TLS on
/// the TCP collective and on Akka.Remote. Two sources:
/// <list type="bullet">
/// <item><see cref="FromPemFiles"/>: an operator-issued certificate; peers must chain to the pinned CA file
/// (the OS trust store is not consulted, host names are not checked: nodes are addressed by IP).</item>
/// <item><see cref="FromClusterSecret"/>: no certificate files; every node derives the same ECDSA key from the
/// cluster secret and trusts exactly that public key, so only holders of the secret complete the handshake.</item>
/// </list>
/// </summary>
public sealed class TlsCredentials : IDisposable
{
    readonly X509Certificate2Collection? trustedRoots;
    readonly byte[]? pinnedPublicKey;

    TlsCredentials(X509Certificate2 certificate, X509Certificate2Collection? trustedRoots, byte[]? pinnedPublicKey, string description)
    {
        Certificate = certificate;
        this.trustedRoots = trustedRoots;
        this.pinnedPublicKey = pinnedPublicKey;
        Description = description;
    }

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>What peers must present (for logs); never contains key material.</summary>
    public string Description { get; }

    /// <summary>Certificate + private key (PEM files) and the CA certificate(s) peers must chain to (PEM file).</summary>
    public static TlsCredentials FromPemFiles(string certificatePem, string privateKeyPem, string caPem)
    {
        foreach (var (path, what) in new[] { (certificatePem, "certificate"), (privateKeyPem, "private key"), (caPem, "CA certificate") })
            if (!File.Exists(path)) throw new FileNotFoundException($"TLS {what} file not found: {path}", path);
        X509Certificate2 cert;
        try
        {
            // Read through RegularFile: a FIFO or a device named as a PEM file is refused instead of blocking.
            using var pem = X509Certificate2.CreateFromPem(ReadPem(certificatePem, "TLS certificate"), ReadPem(privateKeyPem, "TLS private key"));
            // Round-trip through PKCS#12 so the key is usable by SslStream on every platform (ephemeral keys are not on Windows).
            cert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"TLS certificate {certificatePem} / key {privateKeyPem}: {e.Message}", e);
        }
        var roots = new X509Certificate2Collection();
        try { roots.ImportFromPem(ReadPem(caPem, "TLS CA file")); }
        catch (CryptographicException e) { throw new InvalidDataException($"TLS CA file {caPem}: {e.Message}", e); }
        if (roots.Count == 0) throw new InvalidDataException($"TLS CA file {caPem} holds no certificate");
        return new TlsCredentials(cert, roots, null,
            $"certificate {cert.Subject}, peers must chain to {string.Join(", ", roots.Select(r => r.Subject))}");
    }

    /// <summary>Largest PEM file read (a certificate chain is a few kilobytes).</summary>
    const long MaxPemBytes = 1 << 20;

    static string ReadPem(string path, string what) => RegularFile.ReadAllText(path, what, MaxPemBytes);

    /// <summary>A self-signed certificate over a key derived from the secret; peers must present the same public key.</summary>
    public static TlsCredentials FromClusterSecret(ClusterSecret secret)
    {
        using var key = DeriveKey(secret);
        var request = new CertificateRequest($"CN=actorface-{secret.Fingerprint}", key, HashAlgorithmName.SHA256);
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        using var selfSigned = request.CreateSelfSigned(notBefore, notBefore.AddYears(10));
        var cert = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        return new TlsCredentials(cert, null, key.ExportSubjectPublicKeyInfo(),
            $"cluster-secret certificate (fingerprint {secret.Fingerprint}), peers must hold the same secret");
    }

    /// <summary>P-256 private scalar from HKDF(secret); re-derived with a counter in the (~2^-32) case it is out of range.</summary>
    static ECDsa DeriveKey(ClusterSecret secret)
    {
        for (var attempt = 0; ; attempt++)
        {
            var d = secret.DeriveKey($"tls-ecdsa-p256:{attempt}");
            try
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
                return ecdsa;
            }
            catch (CryptographicException) when (attempt < 8) { }
        }
    }

    /// <summary>
    /// The trust decision for a peer certificate (usable as a RemoteCertificateValidationCallback body): the host
    /// name is ignored, everything else must hold; a missing certificate is refused.
    /// </summary>
    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors, out string reason)
    {
        if (certificate == null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            reason = "the peer presented no certificate";
            return false;
        }
        using var peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (pinnedPublicKey != null)
        {
            using var publicKey = peer.GetECDsaPublicKey();
            var ok = publicKey != null && CryptographicOperations.FixedTimeEquals(publicKey.ExportSubjectPublicKeyInfo(), pinnedPublicKey);
            reason = ok ? "" : $"certificate {peer.Subject} was not made from this cluster's secret";
            return ok;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedRoots!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(peer))
        {
            reason = "";
            return true;
        }
        reason = $"certificate {peer.Subject} does not chain to the pinned CA: " +
                 string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return false;
    }

    public void Dispose() => Certificate.Dispose();
}
