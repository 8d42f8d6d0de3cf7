namespace JobDedup;

/// <summary>
/// Whether a job may share the outcome of the flight or kept outcome that holds its key: the one comparison of payload
/// fingerprints, made wherever a duplicate would be joined or replayed. A missing fingerprint on either side never
/// conflicts (payloads are compared only where both were fingerprinted).
/// </summary>
internal static class FingerprintCheck
{
    /// <summary>Returns whether two fingerprints are known and differ.</summary>
    /// <param name="fingerprint">The arriving job's fingerprint, or <see langword="null"/>.</param>
    /// <param name="existing">The fingerprint of what holds the key, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the job must not share the other outcome.</returns>
    public static bool Conflicts(string? fingerprint, string? existing) =>
        fingerprint is not null && existing is not null && !string.Equals(fingerprint, existing, StringComparison.Ordinal);

    /// <summary>Returns the <see cref="JobStatus.Conflict"/> outcome when the fingerprints differ.</summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fingerprint">The arriving job's fingerprint, or <see langword="null"/>.</param>
    /// <param name="existing">The fingerprint of what holds the key, or <see langword="null"/>.</param>
    /// <param name="conflict">The conflict outcome, when there is one.</param>
    /// <returns><see langword="true"/> when the fingerprints differ.</returns>
    public static bool TryGetConflict<TResult>(string key, string? fingerprint, string? existing, out JobOutcome<TResult> conflict)
    {
        if (!Conflicts(fingerprint, existing))
        {
            conflict = default;
            return false;
        }

        conflict = JobOutcome<TResult>.Conflict(key, new PayloadMismatchException(key, fingerprint!, existing!));
        return true;
    }
}
