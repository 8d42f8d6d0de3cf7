namespace JobDedup.Resilience;

/// <summary>An outcome store whose every call goes through the deduplicator's <see cref="StoreBreaker"/>.</summary>
internal sealed class GuardedOutcomeStore<TResult>(IOutcomeStore<TResult> inner, StoreBreaker breaker) : IOutcomeStore<TResult>
{
    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
        breaker.RunAsync(static (s, ct) => s.inner.TryGetAsync(s.scope, s.key, ct), (inner, scope, key), cancellationToken);

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        breaker.RunAsync(static (s, ct) => s.inner.SaveAsync(s.scope, s.key, s.outcome, s.retention, ct), (inner, scope, key, outcome, retention), cancellationToken);

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) =>
        breaker.RunAsync(static (s, ct) => s.inner.RemoveAsync(s.scope, s.key, ct), (inner, scope, key), cancellationToken);

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) =>
        breaker.RunAsync(static (s, ct) => s.inner.ClearAsync(s.scope, ct), (inner, scope), cancellationToken);
}
