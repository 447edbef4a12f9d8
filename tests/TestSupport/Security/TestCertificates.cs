using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ActorFace.Tests;

/// <summary>A throw-away CA and node certificates made in the test (no key material is committed), written as PEM.</summary>
public sealed class TestCertificates : IDisposable
{
    readonly TempDirectory dir = new("actorface-tls-");

    public void Dispose() => dir.Dispose();

    public sealed record NodeFiles(string Certificate, string Key, string Ca);

    public sealed class Authority(string name, X509Certificate2 certificate, ECDsa key)
    {
        public string Name => name;
        public X509Certificate2 Certificate => certificate;
        public ECDsa Key => key;
    }

    public Authority CreateCa(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        return new Authority(name, request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30)), key);
    }

    /// <summary>A node certificate signed by <paramref name="ca"/> (client + server auth), and the CA file to pin.</summary>
    public NodeFiles IssueNode(Authority ca, string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.Create(ca.Certificate, now.AddHours(-1), now.AddDays(7), RandomNumberGenerator.GetBytes(8));
        var files = new NodeFiles(Path.Combine(dir, $"{node}.crt"), Path.Combine(dir, $"{node}.key"), Path.Combine(dir, $"{ca.Name}.crt"));
        File.WriteAllText(files.Certificate, cert.ExportCertificatePem());
        File.WriteAllText(files.Key, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(files.Ca, ca.Certificate.ExportCertificatePem());
        return files;
    }
}
