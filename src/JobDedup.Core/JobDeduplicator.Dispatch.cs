using JobDedup.Pipeline;
using JobDedup.Telemetry;

namespace JobDedup;

/// <content>The dispatcher: the single reader of the queue and the only writer of new flights.</content>
public sealed partial class JobDeduplicator<TJob, TResult>
{
    private async Task DispatchLoopAsync()
    {
        var reader = _queue.Reader;
        while (true)
        {
            try
            {
                while (await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    while (reader.TryRead(out var waiter))
                    {
                        _metrics.Queued(-1);
                        Dispatch(waiter);
                    }
                }

                return; // the queue was completed by StopAsync and is empty
            }
            catch (Exception ex)
            {
                // Rule 8: nothing escapes the loop. Log it and read on.
                LogSafely(static (logger, state) => Log.DispatcherLoopFailed(logger, state.Name, state.Error), (Name, Error: ex));
            }
        }
    }

    private void Dispatch(JobWaiter<TJob, TResult> waiter)
    {
        try
        {
            DispatchCore(waiter);
        }
        catch (Exception ex)
        {
            // The caller first, then the log: a failing logger must not leave it waiting.
            waiter.Complete(JobOutcome<TResult>.Failed(waiter.Key, ex, JobRole.None, 0));
            LogSafely(static (logger, state) => Log.DispatchFailed(logger, state.Name, state.Key, state.Error), (Name, waiter.Key, Error: ex));
        }
    }

    private void DispatchCore(JobWaiter<TJob, TResult> waiter)
    {
        if (!waiter.IsWaiting)
        {
            return; // the caller left while queued
        }

        if (IsStopping)
        {
            // Nothing new starts once shutdown began.
            waiter.Complete(ShuttingDown(waiter.Key, JobRole.None, 0));
            return;
        }

        if (_flights.TryJoin(waiter.Key, out var flight))
        {
            if (flight.AttachedCount > _options.MaxWaitersPerKey)
            {
                flight.Leave();
                waiter.Complete(JobOutcome<TResult>.Rejected(waiter.Key, new JobRejectedException(
                    $"Key '{waiter.Key}' of deduplicator '{Name}' already has {_options.MaxWaitersPerKey} callers waiting (MaxWaitersPerKey).")));
                return;
            }

            flight.AddJoiner(waiter, _options.MaxWaitersPerKey);
            _counters.Hit();
            _metrics.Enqueued(JobRole.Joined);
            return;
        }

        Task<StoredOutcome<TResult>?>? pendingLookup = null;
        if (_store is not null && _claims is null)
        {
            // (A claiming store answers in the flight's claim instead, in one round trip.)
            var lookup = _store.TryGetAsync(Name, waiter.Key, CancellationToken.None);
            if (!lookup.IsCompletedSuccessfully)
            {
                // A store that answers later: the flight waits for it, and callers arriving meanwhile join. If the
                // flight is canceled first, a later failure of the lookup is still observed.
                pendingLookup = lookup.AsTask();
                _ = pendingLookup.ContinueWith(
                    static t => _ = t.Exception,
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
            else if (lookup.Result is { } stored)
            {
                if (waiter.Complete(Replay(waiter.Key, stored)))
                {
                    _counters.Hit();
                    _metrics.Enqueued(JobRole.Replayed);
                }

                return;
            }
        }

        // A flight whose leader cannot leave can never be abandoned (that caller waits to the end), so it needs no token
        // source of its own: shutdown reaches it through the deduplicator's tokens.
        var created = new JobFlight<TJob, TResult>(
            this,
            waiter,
            canBeAbandoned: waiter.CanLeave && !_options.RunToCompletionWhenAbandoned,
            _options.RunToCompletionWhenAbandoned,
            pendingLookup,
            _stopping.Token,
            _shutdown.Token);
        if (!_flights.TryAdd(created))
        {
            throw new InvalidOperationException($"Key '{waiter.Key}' was mapped to a flight by someone other than the dispatcher.");
        }

        Track(created);
        waiter.MarkAttached(created, JobRole.Leader);
        ThreadPool.UnsafeQueueUserWorkItem(created, preferLocal: false);
    }

    private static JobOutcome<TResult> Replay(string key, StoredOutcome<TResult> stored) =>
        JobOutcome<TResult>.Succeeded(key, stored.Value, JobRole.Replayed, stored.Attempts);
}
