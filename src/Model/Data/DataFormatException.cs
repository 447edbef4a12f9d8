namespace ActorFace.Model.Data;

/// <summary>
/// Bad training input (corrupt container, undecodable image, out-of-range label, unusable folder).
/// Always names the file and, where there is one, the record index or key so the bad item can be found.
/// </summary>
public sealed class DataFormatException : IOException
{
    public string File { get; }
    public long? Record { get; }

    public DataFormatException(string file, long? record, string message, Exception? inner = null)
        : base(record is { } r ? $"{file}: record {r}: {message}" : $"{file}: {message}", inner)
    {
        File = file;
        Record = record;
    }
}
