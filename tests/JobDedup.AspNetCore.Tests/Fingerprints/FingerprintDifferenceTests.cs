using System.IO.Hashing;
using System.Text;
using JobDedup.AspNetCore.Fingerprints;
using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore.Tests.Fingerprints;

public sealed class FingerprintDifferenceTests
{
    [Fact]
    public void Between_MembersChangedAddedAndRemoved_NamesEachSorted()
    {
        var earlier = "v1 POST %2Forders j:aaa amount=111 currency=222 note=333";
        var current = "v1 POST %2Forders j:bbb amount=999 currency=222 coupon=444";

        var difference = FingerprintDifference.Between(current, earlier);

        Assert.NotNull(difference);
        Assert.Null(difference.EarlierMethod);
        Assert.Equal(["amount", "coupon", "note"], difference.Members);
    }

    [Fact]
    public void Between_AnotherMethodOrPath_SaysWhichRequestHoldsTheKey()
    {
        var difference = FingerprintDifference.Between("v1 POST %2Forders%2F2 -", "v1 PUT %2Forders%2F1 -");

        Assert.NotNull(difference);
        Assert.Equal("PUT", difference.EarlierMethod);
        Assert.Equal("/orders/1", difference.EarlierTarget);
    }

    [Fact]
    public void Between_MemberNamesWithSpacesAndEquals_RoundTrip()
    {
        var earlier = "v1 POST %2F j:a " + Uri.EscapeDataString("a b=c") + "=1";
        var current = "v1 POST %2F j:b " + Uri.EscapeDataString("a b=c") + "=2";

        Assert.Equal(["a b=c"], FingerprintDifference.Between(current, earlier)!.Members);
    }

    [Fact]
    public void Between_AFingerprintOfAnotherForm_GivesNoDifference() =>
        Assert.Null(FingerprintDifference.Between("v1 POST %2F -", "something else"));

    [Fact]
    public void Compose_RawBody_HashesTheBytesAndKeepsTheTargetEscaped()
    {
        var fingerprint = RequestFingerprint.Compose("post", "/orders?x=1 2", Encoding.UTF8.GetBytes("tea"), isJson: false);
        var parts = RequestFingerprint.Parse(fingerprint)!;

        Assert.Equal("POST", parts.Method);
        Assert.Equal("/orders?x=1 2", parts.Target);
        Assert.Equal("b:" + Convert.ToHexStringLower(XxHash128.Hash("tea"u8)), parts.Body);
        Assert.DoesNotContain(' ', fingerprint.Split(' ')[2]);
    }

    [Fact]
    public void Compose_NoBody_IsADash() =>
        Assert.EndsWith(" -", RequestFingerprint.Compose("DELETE", "/orders/1", [], isJson: true), StringComparison.Ordinal);

    [Fact]
    public void Compose_TheSameRequestTwice_GivesTheSameFingerprint() =>
        Assert.Equal(
            RequestFingerprint.Compose("POST", "/a", Encoding.UTF8.GetBytes("x"), isJson: false),
            RequestFingerprint.Compose("POST", "/a", Encoding.UTF8.GetBytes("x"), isJson: false));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("application/json")]
    [InlineData("APPLICATION/JSON")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("  application/json  ;charset=utf-8")]
    [InlineData("application/problem+json")]
    [InlineData("application/vnd.api+JSON; ext=x")]
    [InlineData("text/x+json")]
    [InlineData("application/jsonx")]
    [InlineData("application/json-patch")]
    [InlineData("application/x-json")]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/json+xml")]
    [InlineData("+json")]
    [InlineData("application/+json")]
    [InlineData("application / json")]
    [InlineData("application/ json")]
    [InlineData("application /json")]
    [InlineData("application/json; charset=\"utf-8")]
    [InlineData("application/json; =x")]
    [InlineData("application/x+json;;")]
    [InlineData("app lication/x+json")]
    [InlineData("appl@cation/x+json")]
    [InlineData("application/(x)+json")]
    [InlineData("application/x y+json")]
    [InlineData("\u00a0application/json")]
    [InlineData("application/json\u00a0")]
    [InlineData("Application/JSON; Charset=UTF-8")]
    public void IsJson_AnyContentType_DecidesAsAspNetCoreDoes(string? contentType)
    {
        var request = new DefaultHttpContext().Request;
        request.ContentType = contentType;

        Assert.Equal(request.HasJsonContentType(), RequestFingerprint.IsJson(request));
    }
}
