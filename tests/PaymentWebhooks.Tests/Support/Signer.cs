using System.Security.Cryptography;
using System.Text;

namespace PaymentWebhooks.Tests.Support;

/// <summary>
/// Signs webhooks as a payment provider would, written here from the documented scheme rather than with the sample's
/// own code, so that a mistake in the sample cannot cancel itself out.
/// </summary>
internal static class Signer
{
    public static string Sign(string secret, DateTimeOffset at, byte[] body) => Sign(secret, at.ToUnixTimeSeconds(), body);

    public static string Sign(string secret, long timestamp, byte[] body) => $"t={timestamp},v1={Hex(secret, timestamp, body)}";

    /// <summary>The hex HMAC-SHA256 of "{timestamp}.{body}".</summary>
    public static string Hex(string secret, long timestamp, byte[] body)
    {
        byte[] signed = [.. Encoding.ASCII.GetBytes($"{timestamp}."), .. body];
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}
