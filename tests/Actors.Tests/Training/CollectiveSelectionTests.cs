using ActorFace.Actors.Training;

namespace ActorFace.Actors.Tests.Training;

public class CollectiveSelectionTests
{
    private static readonly (string, string)[] None = [];
    private static readonly (string, string)[] NodeBLacksNccl = [("b", "libnccl.so.2 not found")];

    [Theory]
    [InlineData("auto", "cuda", true, false, CollectiveKind.Nccl)]
    [InlineData("auto", "cuda", false, false, CollectiveKind.Nccl)]
    [InlineData("auto", "cuda", true, true, CollectiveKind.Local)]
    [InlineData("auto", "cuda", false, true, CollectiveKind.Tcp)]
    [InlineData("auto", "cpu", true, false, CollectiveKind.Local)]
    [InlineData("auto", "cpu", false, false, CollectiveKind.Tcp)]
    [InlineData("tcp", "cuda", true, false, CollectiveKind.Tcp)]
    [InlineData("tcp", "cpu", true, false, CollectiveKind.Tcp)]
    [InlineData("local", "cuda", true, false, CollectiveKind.Local)]
    [InlineData("nccl", "cuda", false, false, CollectiveKind.Nccl)]
    public void TheRuleOfTheCollectiveKey(string setting, string device, bool singleProcess, bool ncclMissing, CollectiveKind expected)
    {
        var kind = CollectiveSelection.Select(setting, device, singleProcess, ncclMissing ? NodeBLacksNccl : None, out var error);
        Assert.Null(error);
        Assert.Equal(expected, kind);
    }

    [Theory]
    [InlineData("nccl", "cpu", true, false, "needs device = cuda")]
    [InlineData("nccl", "cuda", false, true, "unavailable on b (libnccl.so.2 not found)")]
    [InlineData("local", "cpu", false, false, "spans several nodes")]
    [InlineData("gloo", "cpu", true, false, "not one of auto, nccl, tcp, local")]
    public void AChoiceTheWorldCannotHonourIsAnErrorNamingTheKey(string setting, string device, bool singleProcess, bool ncclMissing, string why)
    {
        CollectiveSelection.Select(setting, device, singleProcess, ncclMissing ? NodeBLacksNccl : None, out var error);
        Assert.NotNull(error);
        Assert.StartsWith("collective = ", error);
        Assert.Contains(why, error);
    }
}
