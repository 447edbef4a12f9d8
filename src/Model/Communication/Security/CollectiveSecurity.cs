using ActorFace.Model.Communication.Collectives;

namespace ActorFace.Model.Communication.Security;

/// <summary>Applies the cluster's data-plane protection to <see cref="TcpCollectiveOptions"/>.</summary>
public static class CollectiveSecurity
{
    /// <summary>
    /// Sets <see cref="TcpCollectiveOptions.Authenticate"/> from the cluster secret (when given) and
    /// <see cref="TcpCollectiveOptions.WrapStream"/> from the TLS credentials (when given); both may be combined.
    /// </summary>
    public static TcpCollectiveOptions Secure(this TcpCollectiveOptions options, ClusterSecret? secret, TlsCredentials? tls) =>
        options with
        {
            Authenticate = secret != null ? new SharedSecretAuthenticator(secret).Hook : options.Authenticate,
            WrapStream = tls != null ? CollectiveTls.Wrap(tls) : options.WrapStream,
        };
}
