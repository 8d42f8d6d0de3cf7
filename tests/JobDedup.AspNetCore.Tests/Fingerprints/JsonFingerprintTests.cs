using System.IO.Hashing;
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

    [Fact]
    public void Compose_AJsonObject_DigestsTheCanonicalBodyAndEachMemberAsTheEngineDoes()
    {
        // Fingerprints are kept in shared stores: the body's digest and each member's must stay as defined here.
        const string json = """{ "currency" : "EUR", "amount" : 4999.0, "lines" : [ { "sku" : "tea", "n" : 2 } ] }""";

        var parts = RequestFingerprint.Parse(Of(json))!;

        // The body's digest: the XxHash128 of its canonical form.
        Assert.Equal("j:" + Convert.ToHexStringLower(XxHash128.Hash("""{"amount":4999,"currency":"EUR","lines":[{"n":2,"sku":"tea"}]}"""u8)), parts.Body);
        // A member's digest: the first 6 bytes of the XxHash3 of its value's canonical form.
        Assert.Equal(MemberDigest("4999"u8), parts.Members["amount"]);
        Assert.Equal(MemberDigest("\"EUR\""u8), parts.Members["currency"]);
        Assert.Equal(MemberDigest("""[{"n":2,"sku":"tea"}]"""u8), parts.Members["lines"]);
        Assert.Equal(3, parts.Members.Count);
    }

    private static string MemberDigest(ReadOnlySpan<byte> canonical) =>
        XxHash3.HashToUInt64(canonical).ToString("x16", System.Globalization.CultureInfo.InvariantCulture)[..12];

    [Fact]
    public void Compose_AMemberNamedTwice_FallsBackToTheRawBytes() =>
        Assert.StartsWith("b:", RequestFingerprint.Parse(Of("""{"a":1,"a":2}"""))!.Body, StringComparison.Ordinal);
}
