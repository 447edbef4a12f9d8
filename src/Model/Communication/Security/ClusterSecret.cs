using System.Security.Cryptography;
using System.Text;
using ActorFace.Model.Formats;

namespace ActorFace.Model.Communication.Security;

/// <summary>
/// The secret every node of one training cluster shares (a file readable only by the operator, or an environment
/// variable). It is never sent: nodes prove they hold it (HMAC challenge-response, or TLS with a key derived from
/// it), and each use gets its own sub-key so that a proof made for one purpose cannot be replayed for another.
/// </summary>
public sealed class ClusterSecret
{
    /// <summary>Fewer bytes than this are refused: a short secret can be guessed offline from one recorded handshake.</summary>
    public const int MinBytes = 16;

    /// <summary>Environment variable naming a file with the secret (preferred: files do not show up in `ps`).</summary>
    public const string FileVariable = "ACTORFACE_CLUSTER_SECRET_FILE";

    readonly byte[] key;

    public ClusterSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < MinBytes)
            throw new ArgumentException($"cluster secret has {secret.Length} bytes; at least {MinBytes} are required " +
                                        "(generate one with `openssl rand -base64 32`)", nameof(secret));
        key = secret.ToArray();
    }

    /// <summary>A fresh random secret (tests, `actorface` tooling that writes a secret file).</summary>
    public static ClusterSecret Generate() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>The secret as text (e.g. base64 from `openssl rand`); surrounding whitespace is ignored.</summary>
    public static ClusterSecret FromText(string text) => new(Encoding.UTF8.GetBytes((text ?? "").Trim()));

    /// <summary>Largest secret file read: a secret is a line of base64.</summary>
    public const int MaxFileBytes = 64 * 1024;

    /// <summary>Permission bits that must be clear: like ssh with a private key, a secret others can read is refused.</summary>
    const UnixFileMode LooseBits = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                   UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Reads the secret from a file (whitespace-trimmed). A missing, short, non-regular (FIFO, device) or oversized
    /// file is a clear error, and so is one that its group or other users may access (fix: chmod 600).
    /// </summary>
    public static ClusterSecret FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"cluster secret file not found: {path}", path);
        using var stream = RegularFile.OpenRead(path, "cluster secret file", MaxFileBytes);
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(stream.SafeFileHandle);
            if ((mode & LooseBits) != 0)
                throw new InvalidDataException(
                    $"cluster secret file {path}: permissions {Octal(mode)} are too open: its group or other users can access it " +
                    $"(a cluster secret must be readable by its owner only, as ssh requires of a private key); run: chmod 600 {path}");
        }
        string text;
        using (var reader = new StreamReader(stream, Encoding.UTF8)) text = reader.ReadToEnd();
        try { return FromText(text); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');

    /// <summary>The secret named by <see cref="FileVariable"/>, or null when the variable is unset.</summary>
    public static ClusterSecret? FromEnvironment()
    {
        var path = Environment.GetEnvironmentVariable(FileVariable);
        return string.IsNullOrWhiteSpace(path) ? null : FromFile(path);
    }

    /// <summary>A 32-byte sub-key for one purpose (HKDF-SHA256 with the purpose as info).</summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: "ActorFace cluster secret v1"u8.ToArray(), info: Encoding.UTF8.GetBytes(purpose));

    /// <summary>A short non-secret tag that tells whether two nodes hold the same secret (for logs).</summary>
    public string Fingerprint => Convert.ToHexStringLower(DeriveKey("fingerprint").AsSpan(0, 4));

    public override string ToString() => $"ClusterSecret({Fingerprint})";
}
