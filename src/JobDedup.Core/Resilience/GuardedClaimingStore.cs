namespace JobDedup.Resilience;

/// <summary>A claiming outcome store whose every call goes through the deduplicator's <see cref="StoreBreaker"/>.</summary>
internal sealed class GuardedClaimingStore<TResult> : IClaimingOutcomeStore<TResult>
{
    private readonly IClaimingOutcomeStore<TResult> _inner;
    private readonly StoreBreaker _breaker;
    private readonly GuardedOutcomeStore<TResult> _window;

    public GuardedClaimingStore(IClaimingOutcomeStore<TResult> inner, StoreBreaker breaker)
    {
        _inner = inner;
        _breaker = breaker;
        _window = new GuardedOutcomeStore<TResult>(inner, breaker);
    }

    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
        _window.TryGetAsync(scope, key, cancellationToken);

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        _window.SaveAsync(scope, key, outcome, retention, cancellationToken);

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) =>
        _window.RemoveAsync(scope, key, cancellationToken);

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) =>
        _window.ClearAsync(scope, cancellationToken);

    public ValueTask<OutcomeClaim<TResult>> TryClaimAsync(string scope, string key, string owner, string? fingerprint, TimeSpan lease, CancellationToken cancellationToken) =>
        _breaker.RunAsync(static (s, ct) => s._inner.TryClaimAsync(s.scope, s.key, s.owner, s.fingerprint, s.lease, ct), (_inner, scope, key, owner, fingerprint, lease), cancellationToken);

    public ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken) =>
        _breaker.RunAsync(static (s, ct) => s._inner.RenewAsync(s.scope, s.key, s.fencingToken, s.lease, ct), (_inner, scope, key, fencingToken, lease), cancellationToken);

    public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        _breaker.RunAsync(
            static (s, ct) => s._inner.CompleteAsync(s.scope, s.key, s.fencingToken, s.outcome, s.retention, ct),
            (_inner, scope, key, fencingToken, outcome, retention),
            cancellationToken);

    public ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken) =>
        _breaker.RunAsync(static (s, ct) => s._inner.ReleaseAsync(s.scope, s.key, s.fencingToken, ct), (_inner, scope, key, fencingToken), cancellationToken);

    public ValueTask<StoredOutcome<TResult>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken) =>
        _breaker.RunAsync(static (s, ct) => s._inner.WaitForOutcomeAsync(s.scope, s.key, ct), (_inner, scope, key), cancellationToken);
}
