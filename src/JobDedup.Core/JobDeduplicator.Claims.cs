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
            var claim = await _claims!.TryClaimAsync(Name, flight.Key, _owner, _options.ClaimLease, cancellationToken).ConfigureAwait(false);
            switch (claim.State)
            {
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

    private async Task<JobOutcome<TResult>> ExecuteClaimedAsync(JobFlight<TJob, TResult> flight, long fencing)
    {
        JobOutcome<TResult> outcome;
        using (var renewal = new CancellationTokenSource())
        {
            var renewing = RenewWhileRunningAsync(flight.Key, fencing, renewal.Token);
            try
            {
                outcome = await ExecuteAsync(flight).ConfigureAwait(false);
            }
            finally
            {
                await renewal.CancelAsync().ConfigureAwait(false);
                await renewing.ConfigureAwait(false);
            }
        }

        if (!outcome.IsSucceeded)
        {
            await ReleaseClaimAsync(flight.Key, fencing).ConfigureAwait(false);
            return outcome;
        }

        try
        {
            var stored = new StoredOutcome<TResult>(outcome.Value!, outcome.Attempts, _timeProvider.GetUtcNow());
            if (!await _claims!.CompleteAsync(Name, flight.Key, fencing, stored, _options.CompletedRetention, CancellationToken.None).ConfigureAwait(false))
            {
                // Our claim lapsed and a newer one owns the key: our write was refused. The work did run, so its
                // callers still get the value; the kept outcome is the newer claim's.
                LogSafely(static (logger, s) => Log.ClaimLost(logger, s.Name, s.Key, s.fencing), (Name, flight.Key, fencing));
            }
        }
        catch (Exception ex)
        {
            LogSafely(static (logger, state) => Log.OutcomeSaveFailed(logger, state.Name, state.Key, state.Error), (Name, flight.Key, Error: ex));
        }

        return outcome;
    }

    private async Task RenewWhileRunningAsync(string key, long fencing, CancellationToken cancellationToken)
    {
        var every = _options.ClaimLease / 3;
        try
        {
            while (true)
            {
                await Task.Delay(every, _timeProvider, cancellationToken).ConfigureAwait(false);
                bool renewed;
                try
                {
                    renewed = await _claims!.RenewAsync(Name, key, fencing, _options.ClaimLease, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The store is out of reach for now: keep trying at the next third of the lease. If the lease
                    // lapses meanwhile, the next renewal says so, and the fencing token still guards the outcome.
                    LogSafely(static (logger, s) => Log.OutcomeSaveFailed(logger, s.Name, s.key, s.ex), (Name, key, ex));
                    continue;
                }

                if (!renewed)
                {
                    LogSafely(static (logger, s) => Log.ClaimLost(logger, s.Name, s.key, s.fencing), (Name, key, fencing));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The handler finished.
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
            LogSafely(static (logger, s) => Log.OutcomeRemoveFailed(logger, s.Name, s.key, s.ex), (Name, key, ex));
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
}
