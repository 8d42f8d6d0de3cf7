namespace JobDedup.Core.Tests.Conflicts;

public sealed class FingerprintCheckTests
{
    [Theory]
    [InlineData("a", "b", true)]
    [InlineData("a", "a", false)]
    [InlineData("a", "A", true)]
    [InlineData(null, "a", false)]
    [InlineData("a", null, false)]
    [InlineData(null, null, false)]
    public void Conflicts_OnlyTwoKnownFingerprintsThatDiffer(string? fingerprint, string? existing, bool conflicts)
    {
        Assert.Equal(conflicts, FingerprintCheck.Conflicts(fingerprint, existing));
        Assert.Equal(conflicts, FingerprintCheck.TryGetConflict<int>("k", fingerprint, existing, out var outcome));
        Assert.Equal(conflicts ? JobStatus.Conflict : JobStatus.Succeeded, outcome.Status);
    }

    [Fact]
    public void TryGetConflict_NamesTheKeyAndBothFingerprints()
    {
        Assert.True(FingerprintCheck.TryGetConflict<string>("evt_1", "new", "old", out var outcome));

        var mismatch = Assert.IsType<PayloadMismatchException>(outcome.Exception);
        Assert.Equal("evt_1", outcome.Key);
        Assert.Equal(JobRole.None, outcome.Role);
        Assert.Equal(("evt_1", "new", "old"), (mismatch.Key, mismatch.Fingerprint, mismatch.ExistingFingerprint));
        Assert.Contains("evt_1", mismatch.Message);
    }
}
