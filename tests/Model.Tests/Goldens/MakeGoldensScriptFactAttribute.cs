using ActorFace.Tests;

namespace ActorFace.Model.Tests.Goldens;

/// <summary>
/// Runs the golden-script test only where it can run: ACTORFACE_ARCFACE_TORCH names an arcface_torch folder, a
/// Python 3 with PyTorch is found, and the reference goldens are there to compare with. Otherwise skipped with the
/// reason, also on CI: neither PyTorch nor arcface_torch is a dependency of the project.
/// </summary>
public sealed class MakeGoldensScriptFactAttribute : FactAttribute
{
    public const string ArcfaceTorchVariable = "ACTORFACE_ARCFACE_TORCH";
    public const string PythonVariable = "ACTORFACE_PYTHON";

    static readonly Lazy<string?> python = new(FindPythonWithTorch);

    public static string? ArcfaceTorch => Environment.GetEnvironmentVariable(ArcfaceTorchVariable) is { Length: > 0 } dir ? dir : null;
    public static string? Python => python.Value;

    public MakeGoldensScriptFactAttribute()
    {
        if (ArcfaceTorch is not { } dir)
            Skip = $"set {ArcfaceTorchVariable} to insightface's recognition/arcface_torch folder to rebuild the goldens and compare (needs Python 3 with PyTorch)";
        else if (!File.Exists(Path.Combine(dir, "partial_fc_v2.py")))
            Skip = $"{ArcfaceTorchVariable}={dir} has no partial_fc_v2.py: not an arcface_torch folder";
        else if (Python == null)
            Skip = $"no Python 3 with PyTorch found ({string.Join(", ", Candidates())}; set {PythonVariable})";
        else
            Skip = SharedPaths.SkipReason([.. MakeGoldensScriptTests.Files.Select(f => "golden/" + f), MakeGoldensScriptTests.CelebaFolder]);
    }

    static IEnumerable<string> Candidates() =>
        Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } chosen ? [chosen] : ["python3", "/usr/bin/python3"];

    static string? FindPythonWithTorch() => Candidates().FirstOrDefault(HasTorch);

    static bool HasTorch(string python)
    {
        try
        {
            return ChildProcess.Run(python, ["-c", "import torch"], TimeSpan.FromMinutes(1)).ExitCode == 0;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
