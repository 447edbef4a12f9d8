using System.Net.Security;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Actors.Security;

/// <summary>
/// TLS for Akka.Remote (DotNetty transport). Two ways, both mutual (each side presents a certificate and checks the
/// other's), so a process without valid credentials can neither join the cluster nor send any actor a message:
/// <list type="bullet">
/// <item><see cref="Hocon"/>: Akka's own settings for a PKCS#12 certificate file
/// (<c>akka.remote.dot-netty.tcp.enable-ssl</c>, <c>ssl.certificate.path/password</c>,
/// <c>suppress-validation = false</c>, <c>require-mutual-authentication = true</c>); peers are validated against the
/// operating system's trust store, so the issuing CA must be installed there.</item>
/// <item><see cref="Setup"/>: credentials from <see cref="TlsCredentials"/> (PEM files with a pinned CA, or derived
/// from the cluster secret) through <see cref="DotNettySslSetup"/> with a custom validator: no trust store involved.</item>
/// </list>
/// </summary>
public static class AkkaRemoteTls
{
    /// <summary>HOCON for TLS from a PKCS#12 (.pfx/.p12) file, as documented for Akka.NET 1.5.</summary>
    public static Config Hocon(string pkcs12Path, string password)
    {
        if (!File.Exists(pkcs12Path)) throw new FileNotFoundException($"Akka.Remote TLS certificate not found: {pkcs12Path}", pkcs12Path);
        // Built as an object so that the path and password are quoted by the serialiser, whatever they contain.
        var ssl = new Dictionary<string, object>
        {
            ["certificate"] = new Dictionary<string, object>
            {
                ["path"] = pkcs12Path, ["password"] = password, ["flags"] = new[] { "default-key-set" },
            },
            ["suppress-validation"] = false,
            ["require-mutual-authentication"] = true,
            // nodes are addressed by IP; trust comes from the CA, not the host name
            ["validate-certificate-hostname"] = false,
        };
        var tcp = new Dictionary<string, object> { ["enable-ssl"] = true, ["ssl"] = ssl };
        return ConfigurationFactory.FromObject(new Dictionary<string, object>
        {
            ["akka"] = new Dictionary<string, object> { ["remote"] = new Dictionary<string, object> { ["dot-netty"] = new Dictionary<string, object> { ["tcp"] = tcp } } },
        });
    }

    /// <summary>Turns TLS on; the certificate and the peer check come from <see cref="Setup"/>.</summary>
    public static Config EnableSsl => ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp.enable-ssl = true
        akka.remote.dot-netty.tcp.ssl.suppress-validation = false
        akka.remote.dot-netty.tcp.ssl.require-mutual-authentication = true
        akka.remote.dot-netty.tcp.ssl.validate-certificate-hostname = false
        """);

    /// <summary>The actor-system setup that makes Akka.Remote present <paramref name="credentials"/> and trust only
    /// peers that <see cref="TlsCredentials.Validate"/> accepts (refusals are logged with the reason and passed to
    /// <paramref name="refused"/>).</summary>
    public static DotNettySslSetup Setup(TlsCredentials credentials, Action<string>? refused = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        bool Validate(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate,
                      System.Security.Cryptography.X509Certificates.X509Chain? chain, string peer, SslPolicyErrors errors, ILoggingAdapter log)
        {
            if (credentials.Validate(certificate, errors, out var reason)) return true;
            log.Warning("Akka.Remote TLS: refused {0}: {1}", peer, reason);
            refused?.Invoke($"{peer}: {reason}");
            return false;
        }
        return new DotNettySslSetup(credentials.Certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: Validate);
    }

    /// <summary>Creates an actor system whose remoting runs over mutual TLS with <paramref name="credentials"/>.</summary>
    public static ActorSystem CreateSystem(string name, Config config, TlsCredentials credentials, Action<string>? refused = null) =>
        ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(EnableSsl.WithFallback(config)).And(Setup(credentials, refused)));

}
