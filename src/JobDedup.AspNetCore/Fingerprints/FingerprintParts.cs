namespace JobDedup.AspNetCore.Fingerprints;

/// <summary>A request fingerprint read back into its parts (see <see cref="RequestFingerprint"/>).</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Target">The path and query.</param>
/// <param name="Body">The body's digest (<c>-</c> for no body).</param>
/// <param name="Members">The digest of each listed top-level JSON member, by name.</param>
/// <param name="Truncated">Whether some members are not listed (too many, or too long a name).</param>
internal sealed record FingerprintParts(string Method, string Target, string Body, IReadOnlyDictionary<string, string> Members, bool Truncated);
