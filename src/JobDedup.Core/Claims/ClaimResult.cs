namespace JobDedup.Claims;

/// <summary>What <see cref="ClaimSession{TResult}.AcquireAsync"/> found.</summary>
/// <param name="Session">The granted claim.</param>
/// <param name="Outcome">The kept outcome, to replay.</param>
/// <param name="Refusal">Why the key was refused (another instance holds it and the settings say reject).</param>
/// <param name="HolderFingerprint">
/// The payload fingerprint of another instance's live claim, when it differs from the claimant's: the job conflicts.
/// </param>
internal readonly record struct ClaimResult<TResult>(
    ClaimSession<TResult>? Session,
    StoredOutcome<TResult>? Outcome,
    string? Refusal,
    string? HolderFingerprint = null);
