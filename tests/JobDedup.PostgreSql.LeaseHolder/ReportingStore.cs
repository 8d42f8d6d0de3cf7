namespace JobDedup.PostgreSql.LeaseHolder;

/// <summary>Passes every call to the real store and remembers the fencing token of the last granted claim.</summary>
internal sealed class ReportingStore(IClaimingOutcomeStore<string> inner) : IClaimingOutcomeStore<string>
{
    private long _lastToken;

    public long LastToken => Interlocked.Read(ref _lastToken);

    public async ValueTask<OutcomeClaim<string>> TryClaimAsync(string scope, string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var claim = await inner.TryClaimAsync(scope, key, owner, lease, cancellationToken);
        if (claim.State == ClaimState.Claimed)
        {
            Interlocked.Exchange(ref _lastToken, claim.FencingToken);
        }

        return claim;
    }

    public ValueTask<bool> RenewAsync(string scope, string key, long fencingToken, TimeSpan lease, CancellationToken cancellationToken) =>
        inner.RenewAsync(scope, key, fencingToken, lease, cancellationToken);

    public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, StoredOutcome<string> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        inner.CompleteAsync(scope, key, fencingToken, outcome, retention, cancellationToken);

    public ValueTask ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken) =>
        inner.ReleaseAsync(scope, key, fencingToken, cancellationToken);

    public ValueTask<StoredOutcome<string>?> WaitForOutcomeAsync(string scope, string key, CancellationToken cancellationToken) =>
        inner.WaitForOutcomeAsync(scope, key, cancellationToken);

    public ValueTask<StoredOutcome<string>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
        inner.TryGetAsync(scope, key, cancellationToken);

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<string> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        inner.SaveAsync(scope, key, outcome, retention, cancellationToken);

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) =>
        inner.RemoveAsync(scope, key, cancellationToken);

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) =>
        inner.ClearAsync(scope, cancellationToken);
}
