namespace JobDedup.AspNetCore.Fingerprints;

/// <summary>What differs between a request and the earlier one that holds its key, as far as the fingerprints tell.</summary>
/// <param name="EarlierMethod">The earlier request's method, when the method or the target differ; otherwise <see langword="null"/>.</param>
/// <param name="EarlierTarget">The earlier request's path and query, when the method or the target differ; otherwise <see langword="null"/>.</param>
/// <param name="Members">The top-level JSON members that differ (changed, added or removed), sorted by name.</param>
internal sealed record FingerprintDifference(string? EarlierMethod, string? EarlierTarget, IReadOnlyList<string> Members)
{
    /// <summary>Compares two fingerprints; <see langword="null"/> when either is not of the request form.</summary>
    public static FingerprintDifference? Between(string? fingerprint, string? earlier)
    {
        if (RequestFingerprint.Parse(fingerprint) is not { } current || RequestFingerprint.Parse(earlier) is not { } first)
        {
            return null;
        }

        var targetDiffers = current.Method != first.Method || current.Target != first.Target;
        var members = current.Members.Keys.Union(first.Members.Keys, StringComparer.Ordinal)
            .Where(name => !current.Members.TryGetValue(name, out var mine) || !first.Members.TryGetValue(name, out var theirs) || mine != theirs)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new FingerprintDifference(targetDiffers ? first.Method : null, targetDiffers ? first.Target : null, members);
    }
}
