using ActorFace.Model.Tests.Goldens;
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
        var folder = MakeGoldensScriptFactAttribute.ArcfaceTorch
                     ?? throw new InvalidOperationException("ACTORFACE_STEP_PARITY_REGENERATE=1 needs ACTORFACE_ARCFACE_TORCH (the arcface_torch folder)");
        var python = MakeGoldensScriptFactAttribute.Python
                     ?? throw new InvalidOperationException("no Python with torch found (set ACTORFACE_PYTHON; Debian: apt-get install python3-torch)");
        var (code, stdout, stderr) = ChildProcess.Run(python,
            [Path.Combine(SharedPaths.RepoRoot, "tools", "step_parity.py"), "--arcface-torch", folder, .. arguments, "--out", output],
            Timeout.InfiniteTimeSpan);
        if (code != 0) throw new InvalidOperationException($"step_parity.py exited {code}:\n{stdout}\n{stderr}");
    }
}
