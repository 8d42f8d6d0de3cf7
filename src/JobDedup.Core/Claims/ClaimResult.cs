namespace JobDedup.Claims;

/// <summary>What <see cref="ClaimSession{TResult}.AcquireAsync"/> found.</summary>
/// <param name="Session">The granted claim.</param>
/// <param name="Outcome">The kept outcome, to replay.</param>
/// <param name="Refusal">Why the key was refused (another instance holds it and the settings say reject).</param>
internal readonly record struct ClaimResult<TResult>(ClaimSession<TResult>? Session, StoredOutcome<TResult>? Outcome, string? Refusal);
