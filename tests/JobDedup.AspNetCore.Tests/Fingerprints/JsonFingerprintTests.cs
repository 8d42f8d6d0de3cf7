using System.Text;
using JobDedup.AspNetCore.Fingerprints;

namespace JobDedup.AspNetCore.Tests.Fingerprints;

/// <summary>JSON bodies are compared in their canonical form (RFC 8785), member by member.</summary>
public sealed class JsonFingerprintTests
{
    private static string Of(string json) => RequestFingerprint.Compose("POST", "/orders", Encoding.UTF8.GetBytes(json), isJson: true);

    [Fact]
    public void Compose_MembersReorderedAndSpacedDifferently_GivesTheSameFingerprint() =>
        Assert.Equal(Of("""{"item":"tea","quantity":1}"""), Of("""{ "quantity" : 1.0, "item" : "tea" }"""));

    [Fact]
    public void Compose_OneMemberChanged_DiffNamesThatMember()
    {
        var difference = FingerprintDifference.Between(Of("""{"item":"tea","quantity":2}"""), Of("""{"item":"tea","quantity":1}"""));

        Assert.Equal(["quantity"], difference!.Members);
    }

    [Fact]
    public void Compose_MoreMembersThanListed_ListsTheFirstAndMarksTheRest()
    {
        var json = "{" + string.Join(",", Enumerable.Range(0, 70).Select(i => $"\"m{i:D2}\":{i}")) + "}";

        var parts = RequestFingerprint.Parse(Of(json))!;

        Assert.Equal(RequestFingerprint.MaxMembers, parts.Members.Count);
        Assert.True(parts.Truncated);
        Assert.StartsWith("j:", parts.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_InvalidJson_FallsBackToTheRawBytes() =>
        Assert.StartsWith("b:", RequestFingerprint.Parse(Of("{not json"))!.Body, StringComparison.Ordinal);
}
