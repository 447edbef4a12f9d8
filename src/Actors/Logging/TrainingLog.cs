using System.Globalization;

namespace ActorFace.Actors.Logging;

/// <summary>
/// Rank 0's training log: every record goes to stdout and to &lt;output&gt;/training.log with arcface_torch's prefix
/// `Training: YYYY-MM-DD HH:MM:SS,mmm-`.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    private readonly StreamWriter? _file;
    private readonly TextWriter? _console;
    private readonly object _gate = new();

    public TrainingLog(string? path, TextWriter? console)
    {
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
        _console = console;
    }

    public static string Prefix(DateTime now) =>
        "Training: " + now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture) + "-";

    public void Write(string message)
    {
        var line = Prefix(DateTime.Now) + message;
        lock (_gate)
        {
            _file?.WriteLine(line);
            _console?.WriteLine(line);
        }
    }

    /// <summary>The config dump of arcface_torch: ": " + key padded to 25 characters + value.</summary>
    public void WriteSetting(string key, object? value) =>
        Write(": " + key.PadRight(25) + (value is double d ? ActorFace.Actors.Settings.MarginList.Py(d) : Convert.ToString(value, CultureInfo.InvariantCulture)));

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}
