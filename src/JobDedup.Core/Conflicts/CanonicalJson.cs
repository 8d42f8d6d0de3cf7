namespace JobDedup;

/// <summary>Writes a JSON document in the canonical form of RFC 8785.</summary>
internal static class CanonicalJson
{
    /// <summary>Returns the canonical form of a UTF-8 JSON document.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json) =>
        throw new NotImplementedException("Canonical JSON is not built yet.");
}
