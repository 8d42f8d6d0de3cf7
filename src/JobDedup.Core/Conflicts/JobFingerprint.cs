using System.Security.Cryptography;
using System.Text.Json;

namespace JobDedup;

/// <summary>
/// Builds payload fingerprints for <see cref="JobDedupOptions{TJob}.Fingerprint"/>: a SHA-256, as lowercase hex, of a
/// canonical form, so that formatting differences (member order, white space, number spelling) do not count.
/// </summary>
public static class JobFingerprint
{
    /// <summary>Returns the fingerprint of raw bytes.</summary>
    /// <param name="payload">The bytes.</param>
    /// <returns>The lowercase hex SHA-256 of the bytes.</returns>
    public static string FromBytes(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    /// <summary>
    /// Returns the fingerprint of a JSON document in its canonical form (RFC 8785, the JSON Canonicalization Scheme:
    /// members sorted by their UTF-16 code units, no white space, numbers and strings in their shortest spelling).
    /// </summary>
    /// <param name="json">The UTF-8 JSON document.</param>
    /// <returns>The lowercase hex SHA-256 of the canonical form.</returns>
    /// <exception cref="JsonException"><paramref name="json"/> is not valid JSON.</exception>
    public static string FromJson(ReadOnlySpan<byte> json) => FromBytes(CanonicalJson.Canonicalize(json));

    /// <summary>Returns the fingerprint of a value serialized as JSON, in its canonical form (see <see cref="FromJson(ReadOnlySpan{byte})"/>).</summary>
    /// <remarks>
    /// Named apart from <see cref="FromJson(ReadOnlySpan{byte})"/> so that a byte array of JSON text is never taken for
    /// a value to serialize.
    /// </remarks>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="options">The serializer options; the default options when <see langword="null"/>.</param>
    /// <returns>The lowercase hex SHA-256 of the canonical form.</returns>
    /// <exception cref="JsonException">The value serializes to JSON the canonical form cannot hold (a number out of range, say).</exception>
    public static string FromValue<T>(T value, JsonSerializerOptions? options = null) =>
        FromJson(JsonSerializer.SerializeToUtf8Bytes(value, options).AsSpan());
}
