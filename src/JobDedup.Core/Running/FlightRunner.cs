using JobDedup.Internal;
using JobDedup.Claims;
using JobDedup.Flights;
using JobDedup.Lifecycle;
using JobDedup.Telemetry;
using JobDedup.Window;

namespace JobDedup.Running;

/// <summary>
/// One flight's run, start to end: wait for the key (an earlier run of it must end first), read or claim the dedupe
/// window (a kept outcome with another payload fingerprint is a conflict), take a handler slot, run the attempts,
/// keep the outcome for as long as the retention policy says, deliver the one outcome to every caller, and give the
/// key up only once the handler has really ended.
/// </summary>
internal sealed class FlightRunner<TJob, TResult>
{
    private readonly AttemptRunner<TJob, TResult> _attempts;
    private readonly HandlerSlots _slots;
    private readonly FlightTable<string> _table;
    private readonly DedupeWindow<TResult>? _window;
    private readonly PendingCompletions<TResult>? _pending;
    private readonly ClaimSettings _claimSettings;
    private readonly ShutdownCoordinator<TJob, TResult> _shutdown;
    private readonly FlightCounters _counters;
    private readonly DeduplicatorMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan? _attemptTimeout;
    private readonly EngineLog _log;

    public FlightRunner(
        AttemptRunner<TJob, TResult> attempts,
        HandlerSlots slots,
        FlightTable<string> table,
        DedupeWindow<TResult>? window,
        PendingCompletions<TResult>? pending,
        ClaimSettings claimSettings,
        ShutdownCoordinator<TJob, TResult> shutdown,
        FlightCounters counters,
        DeduplicatorMetrics metrics,
        TimeProvider timeProvider,
        TimeSpan? attemptTimeout,
        EngineLog log)
    {
        _attempts = attempts;
        _slots = slots;
        _table = table;
        _window = window;
        _pending = pending;
        _claimSettings = claimSettings;
        _shutdown = shutdown;
        _counters = counters;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _attemptTimeout = attemptTimeout;
        _log = log;
    }

    public async Task RunAsync(JobFlight<TJob, TResult> flight)
    {
        var token = flight.WaitToken;
        var holdsSlot = false;
        ClaimSession<TResult>? claim = null;
        ForgetBarrier<string>? forgotten = null;
        flight.MarkStarted(_timeProvider.GetTimestamp());
        _metrics.Active(1);
        try
        {
            if (flight.Debounce is { } debounce)
            {
                // Callers join (and push the start back) while the key is not quiet yet.
                await debounce.WaitAsync(token).ConfigureAwait(false);
            }

            if (flight.Predecessor is { } predecessor)
            {
                forgotten = await WaitForKeyAsync(flight, predecessor, token).ConfigureAwait(false);
            }

            if (_window is not null)
            {
                if (_window.Claims is { } claims)
                {
                    await _window.WaitForClearingAsync(token).ConfigureAwait(false);
                    if (forgotten is not null)
                    {
                        // The forgotten outcome must be gone before the claim, or the claim would find and replay it.
                        await forgotten.Removed.WhenEnded().WaitAsync(token).ConfigureAwait(false);
                    }

                    if (_pending?.TryGet(flight.Key) is { } kept)
                    {
                        // Ran here, and its completion has not reached the store yet: answered from here meanwhile.
                        Replay(flight, kept);
                        return;
                    }

                    var found = await ClaimSession<TResult>.AcquireAsync(claims, _claimSettings, _log, flight.Key, flight.Fingerprint, token).ConfigureAwait(false);
                    if (found.Session is null)
                    {
                        CompleteWithoutRun(flight, found);
                        return;
                    }

                    claim = found.Session;
                }
                else if (forgotten is null && !flight.FollowsRun && await _window.TryGetAsync(flight.Key, flight.Lookup, token).ConfigureAwait(false) is { } stored)
                {
                    Replay(flight, stored);
                    return;
                }
            }

            await _slots.WaitAsync(token).ConfigureAwait(false);
            holdsSlot = true;
            if (!flight.TryStartRunning() || _shutdown.IsStopping)
            {
                throw new OperationCanceledException(token);
            }

            _counters.Miss();
            _metrics.Enqueued(JobRole.Leader);
            var outcome = await _attempts.ExecuteAsync(flight, claim).ConfigureAwait(false);
            if (flight.LeftBehind is null)
            {
                flight.MarkRunEnded();

                // Settled before the outcome is delivered: a caller that has it and asks again, here or on another
                // instance, is answered from the window, or finds the key free when its outcome is not kept.
                var retention = _window?.RetentionFor(outcome) ?? TimeSpan.Zero;
                if (claim is not null)
                {
                    await SettleClaimAsync(flight, claim, outcome, retention).ConfigureAwait(false);
                    claim = null;
                }
                else if (retention > TimeSpan.Zero)
                {
                    if (forgotten is { IsReleased: false })
                    {
                        // After a forget this flight never read the window. Its write must land after the removal (and
                        // after any write of the forgotten flight), so the removal cannot erase it; its callers need
                        // not wait for that. The key stays held until the write is done.
                        Complete(flight, outcome);
                        await forgotten.WhenReleased().ConfigureAwait(false);
                        await _window!.WaitForClearingAsync(CancellationToken.None).ConfigureAwait(false);
                    }

                    await _window!.SaveAsync(flight, outcome, retention).ConfigureAwait(false);
                }
            }

            Complete(flight, outcome);
        }
        catch (OperationCanceledException ex) when (token.IsCancellationRequested || flight.HandlerToken.IsCancellationRequested || _shutdown.IsStopping)
        {
            Complete(flight, JobOutcome<TResult>.Canceled(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        catch (OutcomeStoreUnavailableException ex)
        {
            // The store failed before the handler ran: the job did not run and did not fail; its callers may try later.
            _log.Write(static (logger, name, key) => Log.FlightUnavailable(logger, name, key), flight.Key);
            Complete(flight, JobOutcome<TResult>.Unavailable(flight.Key, ex));
        }
        catch (Exception ex)
        {
            // A failed window read lands here: without it, running the handler could repeat a completed job.
            Complete(flight, JobOutcome<TResult>.Failed(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        finally
        {
            if (flight.LeftBehind is { } stillRunning)
            {
                // The key, the slot and the claim stay this flight's until a handler that ignored its token ends.
                await stillRunning.WhenEnded().ConfigureAwait(false);
            }

            flight.MarkRunEnded();
            flight.Debounce?.Dispose();

            if (claim is not null)
            {
                // Failed, canceled, or never ran: let another caller (here or elsewhere) have the key.
                await claim.DisposeAsync().ConfigureAwait(false);
            }

            if (holdsSlot)
            {
                _slots.Release();
            }

            _metrics.Active(-1);
            flight.ReleaseKey(_table);
            _shutdown.Untrack(flight);
        }
    }

    /// <summary>Delivers an outcome to every caller of the flight, once, and records it.</summary>
    public void Complete(JobFlight<TJob, TResult> flight, in JobOutcome<TResult> outcome)
    {
        if (!flight.TryComplete(outcome, replayed: false, out var delivered))
        {
            return;
        }

        _metrics.Completed(outcome.Status);
        if (outcome.Status == JobStatus.Failed)
        {
            _counters.Error();
            _log.Write(
                static (logger, name, s) => Log.FlightFailed(logger, name, s.Key, s.Attempts, s.delivered, s.Exception!),
                (flight.Key, outcome.Attempts, delivered, outcome.Exception));
        }
        else if (outcome.Status == JobStatus.Canceled && delivered == 0)
        {
            _log.Write(static (logger, name, key) => Log.FlightAbandoned(logger, name, key), flight.Key);
        }
    }

    /// <summary>
    /// Waits for the key's previous owner: until its handler has really ended, and, unless it was forgotten, until
    /// its outcome is in the window (so that this flight replays it). A predecessor whose handler was left behind is
    /// waited for no longer than one attempt's timeout, when there is one.
    /// </summary>
    /// <returns>The forget barrier this flight follows, or null when it follows a flight.</returns>
    private async Task<ForgetBarrier<string>?> WaitForKeyAsync(JobFlight<TJob, TResult> flight, KeyOwner<string> predecessor, CancellationToken cancellationToken)
    {
        var ended = predecessor.WhenRunEnded();
        if (predecessor is JobFlight<TJob, TResult> { LeftBehind: not null } && _attemptTimeout is { } timeout)
        {
            try
            {
                await ended.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new HandlerStuckException(
                    $"An earlier handler for key '{flight.Key}' timed out and is still running; the job does not start again until it ends.");
            }
        }
        else
        {
            await ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (predecessor is ForgetBarrier<string> barrier)
        {
            return barrier;
        }

        await predecessor.WhenReleased().WaitAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }

    private async Task SettleClaimAsync(JobFlight<TJob, TResult> flight, ClaimSession<TResult> claim, JobOutcome<TResult> outcome, TimeSpan retention)
    {
        if (retention <= TimeSpan.Zero || !flight.TryBeginWindowWrite())
        {
            // Not kept (by default, a failure), or the flight was forgotten meanwhile: the key is free again.
            await claim.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var stored = _window!.ToKept(flight, outcome);
        if (await claim.CompleteAsync(stored, retention).ConfigureAwait(false) == ClaimCompletion.Failed)
        {
            // Kept here before it is delivered, so a caller that has it and asks again is answered; the completion is
            // tried again while the claim holds.
            _pending!.Keep(claim, stored, retention);
        }
    }

    private void CompleteWithoutRun(JobFlight<TJob, TResult> flight, ClaimResult<TResult> found)
    {
        if (found.Outcome is { } stored)
        {
            Replay(flight, stored);
            return;
        }

        if (FingerprintCheck.TryGetConflict<TResult>(flight.Key, flight.Fingerprint, found.HolderFingerprint, out var conflict))
        {
            Conflicted(flight, conflict);
            return;
        }

        Complete(flight, JobOutcome<TResult>.Rejected(flight.Key, new JobRejectedException(found.Refusal!)));
    }

    /// <summary>Answers the flight from a kept outcome: its replay, or a conflict when the payload fingerprints differ.</summary>
    private void Replay(JobFlight<TJob, TResult> flight, StoredOutcome<TResult> stored)
    {
        var answer = KeptOutcome.Answer(flight.Key, flight.Fingerprint, stored);
        if (answer.Status == JobStatus.Conflict)
        {
            Conflicted(flight, answer);
        }
        else if (flight.TryComplete(answer, replayed: true, out _))
        {
            _counters.Hit();
            _metrics.Enqueued(JobRole.Replayed);
        }
    }

    private void Conflicted(JobFlight<TJob, TResult> flight, in JobOutcome<TResult> conflict)
    {
        if (flight.TryComplete(conflict, replayed: false, out var delivered))
        {
            _metrics.Completed(JobStatus.Conflict);
            _counters.Conflict(delivered);
            _metrics.Conflicted(delivered);
        }
    }
}
