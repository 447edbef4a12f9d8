using System.Diagnostics;
using ActorFace.Tests;

namespace ActorFace.Model.Tests.Training.StepParity;

/// <summary>
/// Runs tools/step_parity.py (arcface_torch's modules on PyTorch) when asked to regenerate the expected files:
/// ACTORFACE_STEP_PARITY_REGENERATE=1 and ACTORFACE_ARCFACE_TORCH=insightface/recognition/arcface_torch, with a
/// Python that imports torch (ACTORFACE_PYTHON, else python3, else /usr/bin/python3, Debian's python3-torch).
/// </summary>
static class ArcfaceTorchReference
{
    public static string ExpectedFolder => Path.Combine(SharedPaths.RepoRoot, "tests", "Model.Tests", "Training", "StepParity", "expected");

    public static bool Regenerate => Environment.GetEnvironmentVariable("ACTORFACE_STEP_PARITY_REGENERATE") == "1";

    /// <summary>Runs the script with <paramref name="arguments"/> (after --arcface-torch) and writes <paramref name="output"/>.</summary>
    public static void Run(string output, params string[] arguments)
    {
        var folder = Environment.GetEnvironmentVariable("ACTORFACE_ARCFACE_TORCH")
                     ?? throw new InvalidOperationException("ACTORFACE_STEP_PARITY_REGENERATE=1 needs ACTORFACE_ARCFACE_TORCH (the arcface_torch folder)");
        var psi = new ProcessStartInfo(Python()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(SharedPaths.RepoRoot, "tools", "step_parity.py"), "--arcface-torch", folder }
                     .Concat(arguments).Concat(["--out", output]))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"step_parity.py exited {p.ExitCode}:\n{stdout}\n{stderr.Result}");
    }

    static string Python()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("ACTORFACE_PYTHON"), "python3", "/usr/bin/python3" };
        foreach (var c in candidates.Where(c => !string.IsNullOrEmpty(c)))
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(c!, "-c \"import torch\"") { RedirectStandardError = true })!;
                p.WaitForExit();
                if (p.ExitCode == 0) return c!;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        throw new InvalidOperationException("no Python with torch found (set ACTORFACE_PYTHON; Debian: apt-get install python3-torch)");
    }
}
