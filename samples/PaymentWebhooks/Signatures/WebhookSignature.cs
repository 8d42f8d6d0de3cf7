using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PaymentWebhooks.Signatures;

/// <summary>
/// The webhook signature: header <c>X-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}</c>.
/// Signing the timestamp with the body lets the receiver refuse an old request sent again; several <c>v1</c> values
/// may be present while the provider rotates its secret, and any one matching is enough.
/// </summary>
internal static class WebhookSignature
{
    /// <summary>The request header that carries the signature.</summary>
    public const string HeaderName = "X-Signature";

    private const int MaxHeaderLength = 1024;
    private const int MaxSignatures = 4;
    private const int HashBytes = 32;

    /// <summary>Builds the header value a provider would send for <paramref name="body"/> at <paramref name="timestamp"/>.</summary>
    /// <param name="secret">The shared secret, as UTF-8 bytes.</param>
    /// <param name="timestamp">Seconds since the Unix epoch.</param>
    /// <param name="body">The exact request body.</param>
    /// <returns>The header value.</returns>
    public static string Create(ReadOnlySpan<byte> secret, long timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[HashBytes];
        Compute(secret, timestamp, body, hash);
        return string.Create(CultureInfo.InvariantCulture, $"t={timestamp},v1={Convert.ToHexStringLower(hash)}");
    }

    /// <summary>Checks a signature header against the body, comparing in constant time.</summary>
    /// <param name="header">The header value, or <see langword="null"/> when the request had none.</param>
    /// <param name="secret">The shared secret, as UTF-8 bytes.</param>
    /// <param name="body">The exact request body.</param>
    /// <param name="now">The current time.</param>
    /// <param name="tolerance">How far the signed timestamp may be from <paramref name="now"/>, either way.</param>
    /// <returns>What the check found.</returns>
    public static SignatureCheck Verify(string? header, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(header))
        {
            return SignatureCheck.Missing;
        }

        if (header.Length > MaxHeaderLength || !TryParse(header, out var timestamp, out var signatures))
        {
            return SignatureCheck.Malformed;
        }

        Span<byte> expected = stackalloc byte[HashBytes];
        Compute(secret, timestamp, body, expected);
        Span<byte> candidate = stackalloc byte[HashBytes];
        var matched = false;
        foreach (var signature in signatures)
        {
            // A value that is not 64 hex digits cannot match; it is compared like any other so that it takes as long.
            candidate.Clear();
            var decoded = signature.Length == HashBytes * 2 &&
                Convert.FromHexString(signature.AsSpan(), candidate, out _, out var written) == OperationStatus.Done &&
                written == HashBytes;
            matched |= CryptographicOperations.FixedTimeEquals(expected, candidate) && decoded;
        }

        if (!matched)
        {
            return SignatureCheck.Mismatch;
        }

        var age = now - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        return age.Duration() <= tolerance ? SignatureCheck.Valid : SignatureCheck.OutsideTolerance;
    }

    private static void Compute(ReadOnlySpan<byte> secret, long timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        Span<byte> prefix = stackalloc byte[24];
        var length = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture), prefix);
        prefix[length++] = (byte)'.';
        hmac.AppendData(prefix[..length]);
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }

    private static bool TryParse(string header, out long timestamp, out List<string> signatures)
    {
        timestamp = 0;
        signatures = [];
        var seenTimestamp = false;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return false;
            }

            var name = part[..equals];
            var value = part[(equals + 1)..];
            if (name == "t")
            {
                // Unix seconds before the year 10000; anything else is not a timestamp.
                if (seenTimestamp || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out timestamp) || timestamp is <= 0 or > 253_402_300_799)
                {
                    return false;
                }

                seenTimestamp = true;
            }
            else if (name == "v1")
            {
                if (signatures.Count == MaxSignatures)
                {
                    return false;
                }

                signatures.Add(value);
            }

            // Other schemes (v0, future versions) are ignored, as providers add them over time.
        }

        return seenTimestamp && signatures.Count > 0;
    }
}
