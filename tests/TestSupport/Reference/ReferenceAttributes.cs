using System.Reflection;
using Xunit;
using Xunit.Sdk;

namespace ActorFace.Tests;

// Declare which files of the reference folder a test reads (paths relative to it, e.g. "golden/pfc_sr1.json").
// The skip is decided at discovery, so a fresh clone reports these tests as skipped, with the reason, instead of
// failing; under ACTORFACE_REQUIRE_REFERENCE=1 they always run (SharedPaths.SkipReason).

/// <summary>A [Fact] that reads reference files: skipped with the reason when they are absent.</summary>
public sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute(params string[] referenceFiles) => Skip = SharedPaths.SkipReason(referenceFiles);
}

/// <summary>A [Theory] whose every row reads reference files: skipped with the reason when they are absent.</summary>
public sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    public ReferenceTheoryAttribute(params string[] referenceFiles) => Skip = SharedPaths.SkipReason(referenceFiles);
}

/// <summary>
/// One [InlineData] row that needs a reference file, beside rows that do not (e.g. the same round trip on synthetic
/// and on real faces): only this row is skipped when the file is absent.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ReferenceInlineDataAttribute : DataAttribute
{
    readonly object?[] row;

    public ReferenceInlineDataAttribute(string referenceFile, params object?[] row)
    {
        this.row = row;
        Skip = SharedPaths.SkipReason(referenceFile);
    }

    public override IEnumerable<object?[]> GetData(MethodInfo testMethod) => [row];
}
