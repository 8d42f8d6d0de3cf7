using System.Diagnostics;
using JobDedup.Pipeline;
using JobDedup.Telemetry;
using Polly;

namespace JobDedup;

/// <content>One flight's run: the dedupe window, a handler slot, the attempts, and the outcome to every caller.</content>
public sealed partial class JobDeduplicator<TJob, TResult>
{
    // The key travels in the resilience context's properties, which Polly's telemetry never exports as tags.
    private static readonly ResiliencePropertyKey<string> KeyProperty = new("jobdedup.key");

    internal async Task RunFlightAsync(JobFlight<TJob, TResult> flight, Task<StoredOutcome<TResult>?>? pendingLookup)
    {
        var token = flight.WaitToken;
        var holdsSlot = false;
        HeldClaim? claim = null;
        try
        {
            _metrics.Active(1);
            if (pendingLookup is not null && await pendingLookup.WaitAsync(token).ConfigureAwait(false) is { } stored)
            {
                ReplayFlight(flight, stored);
                return;
            }

            if (_claims is not null)
            {
                if (await ClaimAsync(flight, token).ConfigureAwait(false) is not { } fencing)
                {
                    return; // replayed, or rejected because another instance holds the key
                }

                // Renewed from now, through the wait for a slot too, so the lease never lapses while the key is ours.
                claim = Hold(flight.Key, fencing);
            }

            await _handlerSlots.WaitAsync(token).ConfigureAwait(false);
            holdsSlot = true;
            flight.MarkRunning();
            if (IsStopping)
            {
                throw new OperationCanceledException(token);
            }

            _counters.Miss();
            _metrics.Enqueued(JobRole.Leader);
            JobOutcome<TResult> outcome;
            if (claim is not null)
            {
                var held = claim;
                claim = null; // completed or released inside, or when a left-behind handler ends
                outcome = await ExecuteClaimedAsync(flight, held).ConfigureAwait(false);
            }
            else
            {
                outcome = await ExecuteAsync(flight).ConfigureAwait(false);
                if (outcome.IsSucceeded && _store is not null && !flight.IsForgotten)
                {
                    // Kept before the key leaves the map, so no arrival can fall in between and run the job again.
                    await SaveOutcomeAsync(flight, outcome).ConfigureAwait(false);
                }
            }

            CompleteFlight(flight, outcome);
        }
        catch (OperationCanceledException ex) when (token.IsCancellationRequested || flight.HandlerToken.IsCancellationRequested || IsStopping)
        {
            CompleteFlight(flight, JobOutcome<TResult>.Canceled(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        catch (Exception ex)
        {
            // A failed store lookup lands here: without it, running the handler could repeat a completed job.
            CompleteFlight(flight, JobOutcome<TResult>.Failed(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        finally
        {
            if (claim is not null)
            {
                // Canceled or failed before the handler ran: let another caller (here or elsewhere) have the key.
                await ReleaseHeldAsync(claim).ConfigureAwait(false);
            }

            if (holdsSlot)
            {
                ReleaseSlot(flight);
            }

            _metrics.Active(-1);
            Untrack(flight);
        }
    }

    private void ReleaseSlot(JobFlight<TJob, TResult> flight)
    {
        if (flight.LeftBehind is { } stillRunning)
        {
            // The slot belongs to the handler that would not stop, until it ends: the cap stays true.
            _ = stillRunning.ContinueWith(
                static (_, slots) => ((SemaphoreSlim)slots!).Release(),
                _handlerSlots,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        _handlerSlots.Release();
    }

    private async ValueTask<JobOutcome<TResult>> ExecuteAsync(JobFlight<TJob, TResult> flight)
    {
        if (ReferenceEquals(_pipeline, ResiliencePipeline.Empty))
        {
            // No retry and no timeout: one attempt, without the cost of a resilience context.
            return ToOutcome(flight, await RunAttemptAsync(flight, flight.HandlerToken).ConfigureAwait(false));
        }

        var context = ResilienceContextPool.Shared.Get(Name, flight.HandlerToken);
        context.Properties.Set(KeyProperty, flight.Key);
        try
        {
            var result = await _pipeline.ExecuteOutcomeAsync(
                static (ctx, state) => state.Owner.RunAttemptAsync(state, ctx.CancellationToken),
                context,
                flight).ConfigureAwait(false);
            return ToOutcome(flight, result);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static JobOutcome<TResult> ToOutcome(JobFlight<TJob, TResult> flight, Outcome<TResult> result)
    {
        var attempts = flight.Attempts;
        if (result.Exception is null)
        {
            return JobOutcome<TResult>.Succeeded(flight.Key, result.Result!, JobRole.Leader, attempts);
        }

        return result.Exception is OperationCanceledException canceled && flight.HandlerToken.IsCancellationRequested
            ? JobOutcome<TResult>.Canceled(flight.Key, canceled, JobRole.Leader, attempts)
            : JobOutcome<TResult>.Failed(flight.Key, result.Exception, JobRole.Leader, attempts);
    }

    private async ValueTask<Outcome<TResult>> RunAttemptAsync(JobFlight<TJob, TResult> flight, CancellationToken cancellationToken)
    {
        Activity? activity = null;

        // The clock is read only when someone listens to the duration.
        var started = Metrics.HandlerDuration.Enabled ? _timeProvider.GetTimestamp() : 0;
        try
        {
            var (job, context, elected) = flight.BeginAttempt();
            if (elected)
            {
                _counters.LeaderElection();
                _metrics.LeaderElected();
                LogSafely(static (logger, s) => Log.LeaderElected(logger, s.Name, s.Key, s.Attempt), (Name, flight.Key, context.Attempt));
            }

            if (Volatile.Read(ref _leftBehindCount) > 0 && _leftBehind.TryGetValue(flight.Key, out var previous))
            {
                // Rule 1: a run of this key that ignored its timeout must end before another starts.
                await WaitForLeftBehindAsync(flight.Key, previous, cancellationToken).ConfigureAwait(false);
            }

            activity = Metrics.ActivitySource.StartActivity("jobdedup.handle", ActivityKind.Internal);
            activity?.SetTag(JobDedupTelemetry.DeduplicatorTag, Name);
            activity?.SetTag("jobdedup.attempt", context.Attempt);
            var pending = _handler.HandleAsync(job, context, cancellationToken);
            var value = pending.IsCompletedSuccessfully
                ? pending.Result
                : await WaitForHandlerAsync(flight, context.Attempt, pending, cancellationToken).ConfigureAwait(false);
            return Outcome.FromResult(value);
        }
        catch (Exception ex)
        {
            // A handler that throws before returning its task lands here too.
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            return Outcome.FromException<TResult>(ex);
        }
        finally
        {
            activity?.Dispose();
            if (started != 0)
            {
                _metrics.HandlerDuration(_timeProvider.GetElapsedTime(started));
            }
        }
    }

    /// <summary>
    /// Waits for a handler, but no longer than its token allows. A handler that ignores a timeout is left behind: its
    /// callers get <see cref="HandlerStuckException"/> at once, it keeps its slot and its key until it ends, and its
    /// late result is ignored (its exception observed).
    /// </summary>
    private async Task<TResult> WaitForHandlerAsync(JobFlight<TJob, TResult> flight, int attempt, ValueTask<TResult> pending, CancellationToken cancellationToken)
    {
        var task = pending.AsTask();
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException canceled) when (!task.IsCompleted)
        {
            var ended = task.ContinueWith(
                static t => _ = t.Exception,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            flight.LeftBehind = ended;
            var key = flight.Key;
            _leftBehind[key] = ended;
            Interlocked.Increment(ref _leftBehindCount);
            _ = ended.ContinueWith(
                _ =>
                {
                    _leftBehind.TryRemove(new KeyValuePair<string, Task>(key, ended));
                    Interlocked.Decrement(ref _leftBehindCount);
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            LogSafely(static (logger, s) => Log.HandlerLeftBehind(logger, s.Name, s.key), (Name, key));
            if (flight.HandlerToken.IsCancellationRequested)
            {
                throw; // every caller left, or shutdown: the flight is canceled anyway
            }

            throw new HandlerStuckException(
                $"Attempt {attempt} for key '{key}' timed out and its handler did not stop; it is not retried while it may still be running.",
                canceled);
        }
    }

    private async Task WaitForLeftBehindAsync(string key, Task previous, CancellationToken cancellationToken)
    {
        try
        {
            await previous.WaitAsync(_options.AttemptTimeout ?? Timeout.InfiniteTimeSpan, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new HandlerStuckException($"An earlier handler for key '{key}' timed out and is still running; the job does not start again until it ends.");
        }
    }

    private async ValueTask SaveOutcomeAsync(JobFlight<TJob, TResult> flight, JobOutcome<TResult> outcome)
    {
        try
        {
            var stored = new StoredOutcome<TResult>(outcome.Value!, outcome.Attempts, _timeProvider.GetUtcNow());
            await _store!.SaveAsync(Name, flight.Key, stored, _options.CompletedRetention, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The job did run: its callers still get the value. Only the window is lost for this key.
            LogSafely(static (logger, state) => Log.OutcomeSaveFailed(logger, state.Name, state.Key, state.Error), (Name, flight.Key, Error: ex));
        }
    }

    private void CompleteFlight(JobFlight<TJob, TResult> flight, in JobOutcome<TResult> outcome)
    {
        if (!flight.TryComplete(outcome, replayed: false, out var waiters))
        {
            return;
        }

        _metrics.Completed(outcome.Status);
        if (outcome.Status == JobStatus.Failed)
        {
            _counters.Error();
            LogSafely(
                static (logger, state) => Log.FlightFailed(logger, state.Name, state.Key, state.Attempts, state.Waiters, state.Error),
                (Name, flight.Key, outcome.Attempts, Waiters: waiters, Error: outcome.Exception!));
        }
        else if (outcome.Status == JobStatus.Canceled && waiters == 0)
        {
            LogSafely(static (logger, state) => Log.FlightAbandoned(logger, state.Name, state.Key), (Name, flight.Key));
        }
    }

    /// <summary>Logs where a throwing logging provider must not stop an outcome from being delivered.</summary>
    private void LogSafely<TState>(Action<Microsoft.Extensions.Logging.ILogger, TState> log, TState state)
    {
        try
        {
            log(_logger, state);
        }
        catch (Exception)
        {
            // The logging provider failed; the outcome was already delivered and the engine goes on.
        }
    }
}
