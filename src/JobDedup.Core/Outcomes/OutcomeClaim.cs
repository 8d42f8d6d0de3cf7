namespace JobDedup;

/// <summary>What a claim on a key found.</summary>
public enum ClaimState
{
    /// <summary>The key is this caller's to run; use <see cref="OutcomeClaim{TResult}.FencingToken"/> to renew and complete it.</summary>
    Claimed,

    /// <summary>The key has a kept outcome: <see cref="OutcomeClaim{TResult}.Outcome"/>.</summary>
    Completed,

    /// <summary>Another live claim holds the key until <see cref="OutcomeClaim{TResult}.LeaseExpiresAt"/>.</summary>
    Busy,
}

/// <summary>The result of <see cref="IClaimingOutcomeStore{TResult}.TryClaimAsync"/>.</summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <param name="State">What the claim found.</param>
/// <param name="FencingToken">For <see cref="ClaimState.Claimed"/>: the claim's token, larger than any earlier claim's on the key.</param>
/// <param name="Outcome">For <see cref="ClaimState.Completed"/>: the kept outcome.</param>
/// <param name="LeaseExpiresAt">For <see cref="ClaimState.Busy"/>: when the other claim expires unless renewed.</param>
public readonly record struct OutcomeClaim<TResult>(ClaimState State, long FencingToken, StoredOutcome<TResult>? Outcome, DateTimeOffset? LeaseExpiresAt)
{
    /// <summary>
    /// Gets a value indicating whether this <see cref="ClaimState.Claimed"/> claim took the key from a holder that died:
    /// the earlier claim was neither completed nor released, but its lease lapsed or the store saw its owner gone. The
    /// earlier holder may have done part or all of the work, so the handler should make its effects conditional.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the key was free, released, or its kept outcome had expired.</value>
    public bool TakesOver { get; init; }

    /// <summary>Gets, for <see cref="ClaimState.Busy"/>, the payload fingerprint the live claim was made with.</summary>
    /// <value>The default is <see langword="null"/>: none was given, or the store does not keep fingerprints.</value>
    public string? Fingerprint { get; init; }

    /// <summary>Gets, for a claim that <see cref="TakesOver"/>, the owner the earlier claim was made by (for diagnostics).</summary>
    /// <value>The default is <see langword="null"/>: not a takeover, or the store does not know.</value>
    public string? PreviousOwner { get; init; }
}

/// <summary>Builds <see cref="OutcomeClaim{TResult}"/> values, one factory per <see cref="ClaimState"/>, named alike.</summary>
public static class OutcomeClaim
{
    /// <summary>A granted claim.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="fencingToken">The claim's token.</param>
    /// <returns>The claim.</returns>
    public static OutcomeClaim<TResult> Claimed<TResult>(long fencingToken) => new(ClaimState.Claimed, fencingToken, null, null);

    /// <summary>A granted claim that may take the key from a holder that died.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="fencingToken">The claim's token.</param>
    /// <param name="takesOver">Whether the earlier claim on the key was neither completed nor released.</param>
    /// <param name="previousOwner">Who made the earlier claim, when it is taken over.</param>
    /// <returns>The claim.</returns>
    public static OutcomeClaim<TResult> Claimed<TResult>(long fencingToken, bool takesOver, string? previousOwner) =>
        new(ClaimState.Claimed, fencingToken, null, null) { TakesOver = takesOver, PreviousOwner = takesOver ? previousOwner : null };

    /// <summary>A key with a kept outcome.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="outcome">The outcome.</param>
    /// <returns>The claim.</returns>
    public static OutcomeClaim<TResult> Completed<TResult>(StoredOutcome<TResult> outcome) => new(ClaimState.Completed, 0, outcome, null);

    /// <summary>A key another claim holds.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="leaseExpiresAt">When that claim expires unless renewed.</param>
    /// <returns>The claim.</returns>
    public static OutcomeClaim<TResult> Busy<TResult>(DateTimeOffset leaseExpiresAt) => new(ClaimState.Busy, 0, null, leaseExpiresAt);
}
