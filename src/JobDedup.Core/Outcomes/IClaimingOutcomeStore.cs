namespace JobDedup;

/// <summary>
/// A durable outcome store that also decides, across processes, who runs a key: a deduplicator claims a key before
/// its handler runs, renews the claim's lease while it runs, and completes it only if its fencing token still holds.
/// Other instances see the key as busy and wait for its outcome (or, for deliveries, park and come back later).
/// Failures are never kept: a failed run releases its claim.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public interface IClaimingOutcomeStore<TResult> : IOutcomeStore<TResult>
{
    /// <summary>Claims a key in one atomic step: free or expired keys are claimed, completed ones returned, live claims reported busy.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="owner">Who claims (for diagnostics).</param>
    /// <param name="fingerprint">
    /// The claiming job's payload fingerprint, or <see langword="null"/>. The store keeps it with the claim and reports
    /// it in <see cref="OutcomeClaim{TResult}.Fingerprint"/> to a caller that finds the key busy.
    /// </param>
    /// <param name="lease">How long the claim holds without renewal.</param>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>The claim, the kept outcome, or who holds the key.</returns>
    ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Extends a claim's lease.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fencingToken">The token the claim was granted with.</param>
    /// <param name="lease">The new lease, from now.</param>
    /// <param name="cancellationToken">Cancels the renewal.</param>
    /// <returns><see langword="false"/> when the claim is no longer this token's (it expired and another instance took the key).</returns>
    ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the outcome of the claim's run (a success, or a failure the retention classifier keeps), only if
    /// <paramref name="fencingToken"/> still holds the key; later claims on the key find it (<see cref="ClaimState.Completed"/>).
    /// </summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fencingToken">The token the claim was granted with.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="retention">How long to keep it.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="false"/> when a newer claim owns the key: this stale write was refused.</returns>
    ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>Gives a claim up without an outcome (the run failed or was canceled), so another caller may run the key.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fencingToken">The token the claim was granted with.</param>
    /// <param name="cancellationToken">Cancels the release.</param>
    /// <returns>A task that completes when the claim is gone (or was no longer this token's).</returns>
    ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken);

    /// <summary>
    /// Waits while another instance holds the key: returns its outcome once completed, or <see langword="null"/> as
    /// soon as the key is free again (released, or its lease expired), so the caller can try to claim it.
    /// </summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The outcome, or <see langword="null"/> when the key should be claimed again.</returns>
    ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken);
}
