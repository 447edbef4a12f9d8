using System.Collections;
using System.Net;
using System.Security.Cryptography;
using ActorFace.Host.Commands;
using ActorFace.Host.Configuration;
using ActorFace.Model.Communication.Collectives;
using ActorFace.Model.Communication.Security;

namespace ActorFace.Host.Tests.Security;

/// <summary>The `cluster.secret_file`, `cluster.tls` and `cluster.allow_insecure` keys and the refusals they control.</summary>
public sealed class SecurityConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new("af-seccfg-");

    public void Dispose() => _dir.Dispose();

    private static LoadedConfig Load(params string[] sets) =>
        TrainingConfigLoader.Load(null, ["dataset=synthetic", "num_classes=6", "num_image=32", .. sets], new Hashtable());

    private string SecretFile()
    {
        var path = Path.Combine(_dir, "secret");
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // a looser secret file is refused
        return path;
    }

    private static readonly IPEndPoint[] RemoteRing = [IPEndPoint.Parse("10.0.0.1:5000"), IPEndPoint.Parse("10.0.0.2:5000")];

    [Fact]
    public void TrainRefusesANonLoopbackHostnameWithoutSecretOrTls()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = TrainCommand.Run(null, ["output=" + Path.Combine(_dir, "out"), "cluster.hostname=0.0.0.0"], stdout, stderr);
        Assert.Equal(2, code);
        Assert.Contains("Akka.Remote: '0.0.0.0' is not a loopback address", stderr.ToString());
        Assert.Contains("actorface.cluster.allow_insecure = true", stderr.ToString());
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")), "refused before anything was created");
    }

    [Fact]
    public void DefaultIsLoopbackOnlyAndAllowInsecureIsTheExplicitOptIn()
    {
        using var none = SecurityConfig.Load(Load(), _ => null);
        Assert.False(none.Enabled);
        none.RequireRemote("127.0.0.1");
        Assert.Throws<ArgumentException>(() => none.RequireRemote("10.0.0.1"));
        Assert.Throws<ArgumentException>(() => none.Protect(0, RemoteRing, new TcpCollectiveOptions()));

        using var optIn = SecurityConfig.Load(Load("cluster.allow_insecure=true"), _ => null);
        optIn.RequireRemote("10.0.0.1");
        var lines = new List<string>();
        var options = optIn.Protect(1, RemoteRing, new TcpCollectiveOptions(), lines.Add);
        Assert.Null(options.Authenticate);
        Assert.Equal("WARNING: TCP collective rank 1 listens on 10.0.0.2:5000, reachable from the network (NO encryption and NO authentication: " +
                     "anyone who can reach this port can connect)", Assert.Single(lines));
    }

    [Fact]
    public void SecretFromTheKeyOrTheEnvironmentVariableSecuresBothPlanes()
    {
        var path = SecretFile();
        using var fromKey = SecurityConfig.Load(Load("cluster.secret_file=" + path), _ => null);
        using var fromEnv = SecurityConfig.Load(Load(), name => name == ClusterSecret.FileVariable ? path : null);
        foreach (var security in new[] { fromKey, fromEnv })
        {
            Assert.True(security.Enabled);
            security.RequireRemote("10.0.0.1");
            var lines = new List<string>();
            var options = security.Protect(0, RemoteRing, new TcpCollectiveOptions(), lines.Add);
            Assert.NotNull(options.Authenticate);
            Assert.NotNull(options.WrapStream);
            Assert.Equal("TCP collective rank 0 listens on 10.0.0.1:5000, reachable from the network (TLS, peers authenticated)", Assert.Single(lines));
            Assert.Equal("Akka.Remote listens on 10.0.0.1:4053, reachable from the network (TLS, peers authenticated)", security.DescribeRemote("10.0.0.1", 4053));
        }
        Assert.Equal(fromKey.Secret!.Fingerprint, fromEnv.Secret!.Fingerprint);
    }

    [Fact]
    public void BadSecurityFilesAreConfigurationErrorsNamingTheKey()
    {
        var missing = Assert.Throws<ConfigException>(() => SecurityConfig.Load(Load("cluster.secret_file=" + Path.Combine(_dir, "nope")), _ => null));
        Assert.Contains("key 'actorface.cluster.secret_file'", missing.Message);
        Assert.Contains("cluster secret file not found", missing.Message);

        var shortFile = Path.Combine(_dir, "short");
        File.WriteAllText(shortFile, "tooshort");
        File.SetUnixFileMode(shortFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var tooShort = Assert.Throws<ConfigException>(() => SecurityConfig.Load(Load(), _ => shortFile));
        Assert.Contains("environment variable ACTORFACE_CLUSTER_SECRET_FILE", tooShort.Message);
        Assert.Contains("at least 16 are required", tooShort.Message);

        var partial = Assert.Throws<ConfigException>(() => SecurityConfig.Load(Load("cluster.tls.certificate=/x.pem"), _ => null));
        Assert.Contains("missing 'actorface.cluster.tls.key', 'actorface.cluster.tls.ca'", partial.Message);
        var absent = Assert.Throws<ConfigException>(() =>
            SecurityConfig.Load(Load("cluster.tls.certificate=/x.pem", "cluster.tls.key=/x.key", "cluster.tls.ca=/ca.pem"), _ => null));
        Assert.Contains("TLS certificate file not found: /x.pem", absent.Message);
    }
}
