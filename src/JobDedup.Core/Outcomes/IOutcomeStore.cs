namespace JobDedup;

/// <summary>
/// Keeps outcomes for the dedupe window so that a late duplicate is answered without a handler run: successes, and
/// failures the retention classifier keeps (<see cref="StoredOutcome{TResult}.Failure"/>). An implementation keeps
/// every <see cref="StoredOutcome{TResult}"/> as given, its <see cref="StoredOutcome{TResult}.Fingerprint"/> and
/// <see cref="StoredOutcome{TResult}.Failure"/> included. Keys are scoped by the deduplicator's name. Implementations
/// must be safe for concurrent use.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public interface IOutcomeStore<TResult>
{
    /// <summary>Returns the outcome kept for the key, or <see langword="null"/> when there is none or it expired.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The kept outcome, if any.</returns>
    ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken);

    /// <summary>Keeps an outcome for <paramref name="retention"/>, replacing any earlier one for the key.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="retention">How long to keep it.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the outcome is kept.</returns>
    ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>Drops the outcome kept for a key.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes when the outcome is gone.</returns>
    ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken);

    /// <summary>Drops every outcome of a scope.</summary>
    /// <param name="scope">The deduplicator's name.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes when the outcomes are gone.</returns>
    ValueTask ClearAsync(string scope, CancellationToken cancellationToken);
}
