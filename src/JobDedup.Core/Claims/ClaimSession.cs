using System.Diagnostics;
using JobDedup.Internal;
using JobDedup.Telemetry;

namespace JobDedup.Claims;

/// <summary>
/// One flight's claim on its key in a claiming (durable) store: claimed before the handler runs, its lease renewed
/// from the grant until it is completed or released, and completed only under its fencing token, so a stale owner
/// can never overwrite a newer one. An outcome the retention policy does not keep (by default, every failure)
/// releases the claim; a kept one, success or failure, completes it. A claim lost while the handler
/// runs (the store says another claim holds the key, or renewals failed until the lease lapsed) fires
/// <see cref="LostToken"/>, which the handler's token is linked to, and its outcome is not kept.
/// </summary>
internal sealed class ClaimSession<TResult> : IAsyncDisposable
{
    private readonly IClaimingOutcomeStore<TResult> _store;
    private readonly ClaimSettings _settings;
    private readonly EngineLog _log;
    private readonly CancellationTokenSource _stopRenewing = new();

    // Never disposed: a handler left behind may still hold a token linked to it, and without a timer it frees nothing.
    private readonly CancellationTokenSource _lost = new();
    private readonly long _grantedAt;
    private readonly Task _renewing;
    private int _state; // ClaimSessionState
    private ClaimLostException? _lostBecause;

    private ClaimSession(IClaimingOutcomeStore<TResult> store, ClaimSettings settings, EngineLog log, string key, OutcomeClaim<TResult> claim, long grantedAt)
    {
        _store = store;
        _settings = settings;
        _log = log;
        Key = key;
        FencingToken = claim.FencingToken;
        TakesOver = claim.TakesOver;
        _grantedAt = grantedAt;
        _renewing = RenewAsync(_stopRenewing.Token);
    }

    public string Key { get; }

    public long FencingToken { get; }

    /// <summary>Gets a value indicating whether the claim took the key from an owner that died.</summary>
    public bool TakesOver { get; }

    /// <summary>Gets a token that fires when the claim is lost while held; the handler's token is linked to it.</summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>Gets why the claim was lost, once it was; <see langword="null"/> while it holds.</summary>
    public ClaimLostException? LostBecause => Volatile.Read(ref _lostBecause);

    public ClaimSessionState State => (ClaimSessionState)Volatile.Read(ref _state);

    /// <summary>
    /// Claims the key, with the claimant's payload fingerprint. Another instance's live claim made with a different
    /// fingerprint is a conflict at once; otherwise it is waited out (its outcome shared once it lands) or refused,
    /// as the settings say.
    /// </summary>
    /// <returns>
    /// The granted claim; or the kept outcome (replay, or a conflict the caller finds by its fingerprint); or the
    /// holder's differing fingerprint; or none of these when refused (the rejection message is set).
    /// </returns>
    public static async Task<ClaimResult<TResult>> AcquireAsync(
        IClaimingOutcomeStore<TResult> store,
        ClaimSettings settings,
        EngineLog log,
        string key,
        string? fingerprint,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            // The lease runs from before the request: the store may grant it any time after.
            var requestedAt = settings.TimeProvider.GetTimestamp();

            // Not canceled half-way: a claim the store granted must be known here, so that it can be released.
            var claim = await store.TryClaimAsync(log.Name, key, settings.Owner, fingerprint, settings.Lease, CancellationToken.None).ConfigureAwait(false);
            switch (claim.State)
            {
                case ClaimState.Claimed when cancellationToken.IsCancellationRequested:
                    await ReleaseAsync(store, log, key, claim.FencingToken).ConfigureAwait(false);
                    throw new OperationCanceledException(cancellationToken);

                case ClaimState.Claimed:
                    if (claim.TakesOver)
                    {
                        log.Write(
                            static (logger, name, s) => Log.ClaimTakenOver(logger, name, s.key, s.claim.FencingToken, s.claim.PreviousOwner ?? "unknown"),
                            (key, claim));
                    }

                    return new ClaimResult<TResult>(new ClaimSession<TResult>(store, settings, log, key, claim, requestedAt), null, null);

                case ClaimState.Completed:
                    return new ClaimResult<TResult>(null, claim.Outcome, null);

                default:
                    if (FingerprintCheck.Conflicts(fingerprint, claim.Fingerprint))
                    {
                        // Another instance runs a different request under this key: neither waited for nor shared.
                        return new ClaimResult<TResult>(null, null, null, claim.Fingerprint);
                    }

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

    /// <summary>Stops the renewal and completes the claim with the outcome to keep, fenced by its token. Never throws.</summary>
    /// <returns>
    /// <see cref="ClaimCompletion.Refused"/> when a newer claim owns the key; <see cref="ClaimCompletion.Failed"/> when
    /// the store failed, after which <see cref="TryCompleteAgainAsync"/> may try again while the claim holds.
    /// </returns>
    public async Task<ClaimCompletion> CompleteAsync(StoredOutcome<TResult> outcome, TimeSpan retention)
    {
        if (await EndAsync().ConfigureAwait(false) != ClaimSessionState.Held)
        {
            // Ended already, or lost while running: the key is (or may be) another claim's, so nothing is written.
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
        // A lost claim is released too: when renewals failed, nobody may have taken the key yet, and the token fences it.
        if (await EndAsync().ConfigureAwait(false) != ClaimSessionState.Ended)
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

    /// <summary>Stops the renewal, once.</summary>
    /// <returns>The state the session ended from; <see cref="ClaimSessionState.Ended"/> for every later call.</returns>
    private async Task<ClaimSessionState> EndAsync()
    {
        var previous = (ClaimSessionState)Interlocked.Exchange(ref _state, (int)ClaimSessionState.Ended);
        AssertInvariants();
        if (previous == ClaimSessionState.Ended)
        {
            return previous;
        }

        await _stopRenewing.CancelAsync().ConfigureAwait(false);
        await _renewing.WhenEnded().ConfigureAwait(false);
        _stopRenewing.Dispose();
        return previous;
    }

    /// <summary>
    /// Renews the lease every renewal interval while the claim is held. Each renewal may take up to one interval. A
    /// renewal the store refuses loses the claim at once; failed renewals (the store out of reach, a timeout) are
    /// retried at the next interval, and lose the claim once the lease has run out since the last renewal that held.
    /// </summary>
    private async Task RenewAsync(CancellationToken stop)
    {
        var time = _settings.TimeProvider;
        var heldSince = _grantedAt;
        try
        {
            while (true)
            {
                await Task.Delay(_settings.RenewInterval, time, stop).ConfigureAwait(false);
                var started = time.GetTimestamp();
                bool renewed;
                try
                {
                    using var limit = new CancellationTokenSource(_settings.RenewInterval, time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, limit.Token);
                    renewed = await _store.RenewAsync(_log.Name, Key, FencingToken, _settings.Lease, linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    if (time.GetElapsedTime(heldSince) >= _settings.Lease)
                    {
                        Lose(new ClaimLostException(
                            $"The claim on key '{Key}' of deduplicator '{_log.Name}' (fencing token {FencingToken}) could not be renewed " +
                            $"for its whole lease of {_settings.Lease}; another instance may run the key now.",
                            ex));
                        return;
                    }

                    // The store is out of reach for now: keep trying at the next interval. The fencing token still
                    // guards the outcome meanwhile.
                    if (ex is not OutcomeStoreUnavailableException { IsCircuitOpen: true })
                    {
                        _log.Write(static (logger, name, s) => Log.ClaimRenewFailed(logger, name, s.Key, s.ex), (Key, ex));
                    }

                    continue;
                }

                if (!renewed)
                {
                    Lose(new ClaimLostException(
                        $"The claim on key '{Key}' of deduplicator '{_log.Name}' (fencing token {FencingToken}) is no longer held: " +
                        "another claim holds the key, or the key was forgotten."));
                    return;
                }

                heldSince = started;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The claim is being completed or released.
        }
    }

    /// <summary>Moves a held claim to lost and fires the handler's token; nothing happens once the session ended.</summary>
    private void Lose(ClaimLostException because)
    {
        if (Interlocked.CompareExchange(ref _state, (int)ClaimSessionState.Lost, (int)ClaimSessionState.Held) != (int)ClaimSessionState.Held)
        {
            return;
        }

        Volatile.Write(ref _lostBecause, because);
        AssertInvariants();
        _log.Write(
            static (logger, name, s) => Log.ClaimLostWhileRunning(logger, name, s.Key, s.FencingToken, s.because.InnerException),
            (Key, FencingToken, because));
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's own cancellation callback threw; the handler sees the token fired all the same.
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        var state = (ClaimSessionState)Volatile.Read(ref _state);
        Debug.Assert(state <= ClaimSessionState.Ended, "The state is one of the three.");
        Debug.Assert(state != ClaimSessionState.Held || !_lost.IsCancellationRequested, "A held claim has not fired its loss.");
    }
}
