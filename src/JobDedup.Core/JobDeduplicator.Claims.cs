using JobDedup.Pipeline;
using JobDedup.Telemetry;

namespace JobDedup;

/// <content>
/// Flights over a claiming (durable) outcome store: the key is claimed before the handler runs, the claim's lease is
/// renewed while it runs, and the outcome is completed under the claim's fencing token, so a stale leader can never
/// overwrite a newer one. Failures release the claim; they are never kept.
/// </content>
public sealed partial class JobDeduplicator<TJob, TResult>
{
    /// <summary>Claims the flight's key; returns the fencing token, or null when the flight was completed here instead.</summary>
    private async Task<long?> ClaimAsync(JobFlight<TJob, TResult> flight, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Not canceled half-way: a claim the store granted must be known here, so that it can be released.
            var claim = await _claims!.TryClaimAsync(Name, flight.Key, _owner, _options.ClaimLease, CancellationToken.None).ConfigureAwait(false);
            switch (claim.State)
            {
                case ClaimState.Claimed when cancellationToken.IsCancellationRequested:
                    await ReleaseClaimAsync(flight.Key, claim.FencingToken).ConfigureAwait(false);
                    throw new OperationCanceledException(cancellationToken);

                case ClaimState.Claimed:
                    return claim.FencingToken;

                case ClaimState.Completed:
                    ReplayFlight(flight, claim.Outcome!.Value);
                    return null;

                default:
                    if (_options.WhenClaimedElsewhere == ClaimedElsewhereMode.Reject)
                    {
                        CompleteFlight(flight, JobOutcome<TResult>.Rejected(flight.Key, new JobRejectedException(
                            $"Key '{flight.Key}' of deduplicator '{Name}' is being handled by another instance (its claim holds until {claim.LeaseExpiresAt:O}).")));
                        return null;
                    }

                    // Another instance runs it: share its outcome, or claim again once its claim is gone.
                    if (await _claims.WaitForOutcomeAsync(Name, flight.Key, cancellationToken).ConfigureAwait(false) is { } elsewhere)
                    {
                        ReplayFlight(flight, elsewhere);
                        return null;
                    }

                    break;
            }
        }
    }

    /// <summary>Holds a granted claim: its lease is renewed from now until the claim is completed or released.</summary>
    private HeldClaim Hold(string key, long fencing)
    {
        var stop = new CancellationTokenSource();
        return new HeldClaim(key, fencing, stop, RenewWhileHeldAsync(key, fencing, stop.Token));
    }

    private async Task<JobOutcome<TResult>> ExecuteClaimedAsync(JobFlight<TJob, TResult> flight, HeldClaim held)
    {
        var outcome = await ExecuteAsync(flight).ConfigureAwait(false);
        if (flight.LeftBehind is { } stillRunning)
        {
            // A handler that ignored its timeout may still be running: no other instance may take the key until it
            // ends, so the claim stays held (and renewed) until then.
            _ = ReleaseWhenEndedAsync(stillRunning, held);
            return outcome;
        }

        await held.StopRenewingAsync().ConfigureAwait(false);
        if (!outcome.IsSucceeded || flight.IsForgotten)
        {
            // Failures are never kept; neither is the outcome of a flight forgotten meanwhile.
            await ReleaseClaimAsync(held.Key, held.Fencing).ConfigureAwait(false);
            return outcome;
        }

        try
        {
            var stored = new StoredOutcome<TResult>(outcome.Value!, outcome.Attempts, _timeProvider.GetUtcNow());
            if (!await _claims!.CompleteAsync(Name, flight.Key, held.Fencing, stored, _options.CompletedRetention, CancellationToken.None).ConfigureAwait(false))
            {
                // Our claim lapsed and a newer one owns the key: our write was refused. The work did run, so its
                // callers still get the value; the kept outcome is the newer claim's.
                LogSafely(static (logger, s) => Log.ClaimLost(logger, s.Name, s.Key, s.Fencing), (Name, flight.Key, held.Fencing));
            }
        }
        catch (Exception ex)
        {
            LogSafely(static (logger, state) => Log.OutcomeSaveFailed(logger, state.Name, state.Key, state.Error), (Name, flight.Key, Error: ex));
        }

        return outcome;
    }

    private async Task ReleaseWhenEndedAsync(Task stillRunning, HeldClaim held)
    {
        await stillRunning.ConfigureAwait(false);
        await ReleaseHeldAsync(held).ConfigureAwait(false);
    }

    private async Task ReleaseHeldAsync(HeldClaim held)
    {
        await held.StopRenewingAsync().ConfigureAwait(false);
        await ReleaseClaimAsync(held.Key, held.Fencing).ConfigureAwait(false);
    }

    private async Task RenewWhileHeldAsync(string key, long fencing, CancellationToken stop)
    {
        var every = _options.ClaimLease / 3;
        try
        {
            while (true)
            {
                await Task.Delay(every, _timeProvider, stop).ConfigureAwait(false);
                bool renewed;
                try
                {
                    renewed = await _claims!.RenewAsync(Name, key, fencing, _options.ClaimLease, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // The store is out of reach for now (a timeout may surface as a cancellation): keep trying at the
                    // next third of the lease. If the lease lapses meanwhile, the next renewal says so, and the fencing
                    // token still guards the outcome.
                    LogSafely(static (logger, s) => Log.ClaimRenewFailed(logger, s.Name, s.key, s.ex), (Name, key, ex));
                    continue;
                }

                if (!renewed)
                {
                    LogSafely(static (logger, s) => Log.ClaimLost(logger, s.Name, s.key, s.fencing), (Name, key, fencing));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The claim is being completed or released.
        }
    }

    private async Task ReleaseClaimAsync(string key, long fencing)
    {
        try
        {
            await _claims!.ReleaseAsync(Name, key, fencing, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The lease lapses by itself.
            LogSafely(static (logger, s) => Log.ClaimReleaseFailed(logger, s.Name, s.key, s.ex), (Name, key, ex));
        }
    }

    private void ReplayFlight(JobFlight<TJob, TResult> flight, StoredOutcome<TResult> stored)
    {
        if (flight.TryComplete(Replay(flight.Key, stored), replayed: true, out _))
        {
            _counters.Hit();
            _metrics.Enqueued(JobRole.Replayed);
        }
    }

    /// <summary>A claim this instance holds, and the renewal of its lease.</summary>
    private sealed class HeldClaim(string key, long fencing, CancellationTokenSource stop, Task renewing)
    {
        public string Key { get; } = key;

        public long Fencing { get; } = fencing;

        public async Task StopRenewingAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await renewing.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The renewal loop logs its own failures; stopping it must never change the flight's outcome.
            }

            stop.Dispose();
        }
    }
}
