namespace ActorFace.Actors.Settings;

/// <summary>
/// `actorface.cluster.secret_file`, `cluster.tls { certificate, key, ca }` and `cluster.allow_insecure` (declared in
/// actorface-reference.conf): per node, so not part of <see cref="TrainingSettings"/> or its digest. The host turns
/// them into a ClusterSecurity (Host/Configuration/SecurityConfig), checking the files they name.
/// </summary>
public sealed record ClusterSecuritySettings
{
    public required string SecretFile { get; init; }
    public required string TlsCertificate { get; init; }
    public required string TlsKey { get; init; }
    public required string TlsCa { get; init; }
    public required bool AllowInsecure { get; init; }

    public static ClusterSecuritySettings Read(ISettingsReader r) => new()
    {
        SecretFile = r.Get<string>("cluster.secret_file"),
        TlsCertificate = r.Get<string>("cluster.tls.certificate"),
        TlsKey = r.Get<string>("cluster.tls.key"),
        TlsCa = r.Get<string>("cluster.tls.ca"),
        AllowInsecure = r.Get<bool>("cluster.allow_insecure"),
    };
}
