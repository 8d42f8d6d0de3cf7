using System.Text;
using PaymentWebhooks.Signatures;
using PaymentWebhooks.Tests.Support;

namespace PaymentWebhooks.Tests;

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec_unit_test_secret_0001";
    private static readonly byte[] Body = EventBodies.Body("evt_unit", 100);
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);

    [Fact]
    public void Create_IsTheHexHmacOfTimestampDotBody()
    {
        var header = WebhookSignature.Create(Encoding.UTF8.GetBytes(Secret), Now.ToUnixTimeSeconds(), Body);

        Assert.Equal(Signer.Sign(Secret, Now, Body), header);
    }

    [Theory]
    [InlineData(null, nameof(SignatureCheck.Missing))]
    [InlineData("", nameof(SignatureCheck.Missing))]
    [InlineData("garbage", nameof(SignatureCheck.Malformed))]
    [InlineData("t=1767225600", nameof(SignatureCheck.Malformed))]
    [InlineData("t=-5,v1=00", nameof(SignatureCheck.Malformed))]
    [InlineData("t=1767225600,v1=00,v1=00,v1=00,v1=00,v1=00", nameof(SignatureCheck.Malformed))]
    [InlineData("t=1767225600,v1=00", nameof(SignatureCheck.Mismatch))]
    public void Verify_ReportsWhatIsWrongWithTheHeader(string? header, string expected) =>
        Assert.Equal(Enum.Parse<SignatureCheck>(expected), Verify(header, Now));

    [Fact]
    public void Verify_GenuineSignature_IsValidWithinToleranceOnly()
    {
        var header = Signer.Sign(Secret, Now, Body);

        Assert.Equal(SignatureCheck.Valid, Verify(header, Now));
        Assert.Equal(SignatureCheck.Valid, Verify(header, Now.AddMinutes(5)));
        Assert.Equal(SignatureCheck.OutsideTolerance, Verify(header, Now.AddMinutes(5).AddSeconds(1)));
        Assert.Equal(SignatureCheck.OutsideTolerance, Verify(header, Now.AddMinutes(-5).AddSeconds(-1)));
    }

    [Fact]
    public void Verify_AnyOneOfSeveralSignaturesMatching_IsValid()
    {
        var t = Now.ToUnixTimeSeconds();
        var header = $"t={t},v1={Signer.Hex("whsec_retired_secret_000000", t, Body)},v1={Signer.Hex(Secret, t, Body)}";

        Assert.Equal(SignatureCheck.Valid, Verify(header, Now));
    }

    private static SignatureCheck Verify(string? header, DateTimeOffset now) =>
        WebhookSignature.Verify(header, Encoding.UTF8.GetBytes(Secret), Body, now, TimeSpan.FromMinutes(5));
}
