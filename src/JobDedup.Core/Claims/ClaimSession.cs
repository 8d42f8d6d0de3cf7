using JobDedup.Internal;
using JobDedup.Telemetry;

namespace JobDedup.Claims;

/// <summary>
/// One flight's claim on its key in a claiming (durable) store: claimed before the handler runs, its lease renewed
/// from the grant until it is completed or released, and completed only under its fencing token, so a stale owner
/// can never overwrite a newer one. Failures release the claim; they are never kept.
/// </summary>
internal sealed class ClaimSession<TResult> : IAsyncDisposable
{
    private readonly IClaimingOutcomeStore<TResult> _store;
    private readonly ClaimSettings _settings;
    private readonly EngineLog _log;
    private readonly CancellationTokenSource _stopRenewing = new();
    private readonly Task _renewing;
    private int _ended;

    private ClaimSession(IClaimingOutcomeStore<TResult> store, ClaimSettings settings, EngineLog log, string key, long fencingToken)
    {
        _store = store;
        _settings = settings;
        _log = log;
        Key = key;
        FencingToken = fencingToken;
        _renewing = RenewAsync(_stopRenewing.Token);
    }

    public string Key { get; }

    public long FencingToken { get; }

    /// <summary>
    /// Claims the key. Another instance's live claim is waited out (its outcome shared once it lands) or refused, as
    /// the settings say.
    /// </summary>
    /// <returns>The granted claim; or the kept outcome (replay); or neither when refused (the rejection message is set).</returns>
    public static async Task<ClaimResult<TResult>> AcquireAsync(
        IClaimingOutcomeStore<TResult> store,
        ClaimSettings settings,
        EngineLog log,
        string key,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            // Not canceled half-way: a claim the store granted must be known here, so that it can be released.
            var claim = await store.TryClaimAsync(log.Name, key, settings.Owner, settings.Lease, CancellationToken.None).ConfigureAwait(false);
            switch (claim.State)
            {
                case ClaimState.Claimed when cancellationToken.IsCancellationRequested:
                    await ReleaseAsync(store, log, key, claim.FencingToken).ConfigureAwait(false);
                    throw new OperationCanceledException(cancellationToken);

                case ClaimState.Claimed:
                    return new ClaimResult<TResult>(new ClaimSession<TResult>(store, settings, log, key, claim.FencingToken), null, null);

                case ClaimState.Completed:
                    return new ClaimResult<TResult>(null, claim.Outcome, null);

                default:
                    if (settings.WhenKeyBusy == BusyKeyMode.Reject)
                    {
                        return new ClaimResult<TResult>(null, null,
                            $"Key '{key}' of deduplicator '{log.Name}' is being handled by another instance (its claim holds until {claim.LeaseExpiresAt:O}).");
                    }

                    // Another instance runs it: share its outcome, or claim again once its claim is gone.
                    if (await store.WaitForOutcomeAsync(log.Name, key, cancellationToken).ConfigureAwait(false) is { } elsewhere)
                    {
                        return new ClaimResult<TResult>(null, elsewhere, null);
                    }

                    break;
            }
        }
    }

    /// <summary>Stops the renewal and completes the claim with a successful outcome, fenced by its token. Never throws.</summary>
    /// <returns>
    /// <see cref="ClaimCompletion.Refused"/> when a newer claim owns the key; <see cref="ClaimCompletion.Failed"/> when
    /// the store failed, after which <see cref="TryCompleteAgainAsync"/> may try again while the claim holds.
    /// </returns>
    public async Task<ClaimCompletion> CompleteAsync(StoredOutcome<TResult> outcome, TimeSpan retention)
    {
        if (!await EndAsync().ConfigureAwait(false))
        {
            return ClaimCompletion.Refused;
        }

        return await TryCompleteAsync(outcome, retention, again: false, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Tries the completion once more, after <see cref="CompleteAsync"/> failed. Never throws but for <paramref name="cancellationToken"/>.</summary>
    public Task<ClaimCompletion> TryCompleteAgainAsync(StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) =>
        TryCompleteAsync(outcome, retention, again: true, cancellationToken);

    /// <summary>Renews the lease once, while a failed completion is tried again.</summary>
    /// <returns><see langword="false"/> when the claim is lost.</returns>
    /// <exception cref="OutcomeStoreUnavailableException">The store failed.</exception>
    public async Task<bool> RenewOnceAsync(CancellationToken cancellationToken) =>
        await _store.RenewAsync(_log.Name, Key, FencingToken, _settings.Lease, cancellationToken).ConfigureAwait(false);

    private async Task<ClaimCompletion> TryCompleteAsync(StoredOutcome<TResult> outcome, TimeSpan retention, bool again, CancellationToken cancellationToken)
    {
        try
        {
            if (await _store.CompleteAsync(_log.Name, Key, FencingToken, outcome, retention, cancellationToken).ConfigureAwait(false))
            {
                return ClaimCompletion.Completed;
            }

            if (again && await _store.TryGetAsync(_log.Name, Key, cancellationToken).ConfigureAwait(false) is { } kept && IsSame(kept, outcome))
            {
                // An earlier try did land; only its answer was lost with the connection.
                return ClaimCompletion.Completed;
            }

            // Our claim lapsed and a newer one owns the key: our write was refused. The work did run, so its callers
            // still get the value; the kept outcome is the newer claim's.
            _log.Write(static (logger, name, s) => Log.ClaimLost(logger, name, s.Key, s.FencingToken), (Key, FencingToken));
            return ClaimCompletion.Refused;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The store failed (and the breaker counted it): the caller keeps the outcome and tries again.
            return ClaimCompletion.Failed;
        }
    }

    /// <summary>Whether the kept outcome is this one: a store may keep the time to the microsecond only.</summary>
    private static bool IsSame(StoredOutcome<TResult> kept, StoredOutcome<TResult> outcome) =>
        kept.Attempts == outcome.Attempts && (kept.CompletedAt - outcome.CompletedAt).Duration() < TimeSpan.FromMilliseconds(1);

    /// <summary>Gives the claim up without an outcome, so another caller here or elsewhere may run the key. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (await EndAsync().ConfigureAwait(false))
        {
            await ReleaseAsync(_store, _log, Key, FencingToken).ConfigureAwait(false);
        }
    }

    private static async Task ReleaseAsync(IClaimingOutcomeStore<TResult> store, EngineLog log, string key, long fencingToken)
    {
        try
        {
            await store.ReleaseAsync(log.Name, key, fencingToken, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OutcomeStoreUnavailableException ex) when (ex.IsCircuitOpen)
        {
            // The store is known to be down (logged once); the lease lapses by itself.
        }
        catch (Exception ex)
        {
            // The lease lapses by itself.
            log.Write(static (logger, name, s) => Log.ClaimReleaseFailed(logger, name, s.key, s.ex), (key, ex));
        }
    }

    /// <summary>Stops the renewal, once; true for the call that ended the session.</summary>
    private async Task<bool> EndAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        await _stopRenewing.CancelAsync().ConfigureAwait(false);
        await _renewing.WhenEnded().ConfigureAwait(false);
        _stopRenewing.Dispose();
        return true;
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        var every = _settings.Lease / 3;
        try
        {
            while (true)
            {
                await Task.Delay(every, _settings.TimeProvider, stop).ConfigureAwait(false);
                bool renewed;
                try
                {
                    renewed = await _store.RenewAsync(_log.Name, Key, FencingToken, _settings.Lease, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // The store is out of reach for now (a timeout may surface as a cancellation): keep trying at the
                    // next third of the lease. If the lease lapses meanwhile, the next renewal says so, and the fencing
                    // token still guards the outcome.
                    if (ex is not OutcomeStoreUnavailableException { IsCircuitOpen: true })
                    {
                        _log.Write(static (logger, name, s) => Log.ClaimRenewFailed(logger, name, s.Key, s.ex), (Key, ex));
                    }

                    continue;
                }

                if (!renewed)
                {
                    _log.Write(static (logger, name, s) => Log.ClaimLost(logger, name, s.Key, s.FencingToken), (Key, FencingToken));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The claim is being completed or released.
        }
    }
}
