using System.Diagnostics;
using JobDedup.Pipeline;
using JobDedup.Telemetry;
using Polly;

namespace JobDedup;

/// <content>One flight's run: the dedupe window, a handler slot, the attempts, and the outcome to every caller.</content>
public sealed partial class JobDeduplicator<TJob, TResult>
{
    internal async Task RunFlightAsync(JobFlight<TJob, TResult> flight, Task<StoredOutcome<TResult>?>? pendingLookup)
    {
        var token = flight.HandlerToken;
        Metrics.ActiveFlights.Add(1, _nameTag);
        try
        {
            if (pendingLookup is not null && await pendingLookup.WaitAsync(token).ConfigureAwait(false) is { } stored)
            {
                if (flight.TryComplete(Replay(flight.Key, stored), replayed: true, out _))
                {
                    _counters.Hit();
                    Metrics.JobsEnqueued.Add(1, _nameTag, new("jobdedup.role", "replayed"));
                }

                return;
            }

            await _handlerSlots.WaitAsync(token).ConfigureAwait(false);
            JobOutcome<TResult> outcome;
            try
            {
                flight.MarkRunning();
                if (IsStopping)
                {
                    throw new OperationCanceledException(token);
                }

                _counters.Miss();
                Metrics.JobsEnqueued.Add(1, _nameTag, new("jobdedup.role", "leader"));
                outcome = await ExecuteAsync(flight).ConfigureAwait(false);
            }
            finally
            {
                _handlerSlots.Release();
            }

            if (outcome.IsSucceeded && _store is not null)
            {
                // Kept before the key leaves the map, so no arrival can fall in between and run the job again.
                await SaveOutcomeAsync(flight, outcome).ConfigureAwait(false);
            }

            CompleteFlight(flight, outcome);
        }
        catch (OperationCanceledException ex) when (token.IsCancellationRequested || IsStopping)
        {
            CompleteFlight(flight, JobOutcome<TResult>.Canceled(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        catch (Exception ex)
        {
            // A store lookup that failed lands here: without it, running the handler could repeat a completed job.
            CompleteFlight(flight, JobOutcome<TResult>.Failed(flight.Key, ex, JobRole.Leader, flight.Attempts));
        }
        finally
        {
            Metrics.ActiveFlights.Add(-1, _nameTag);
            Untrack(flight);
        }
    }

    private async ValueTask<JobOutcome<TResult>> ExecuteAsync(JobFlight<TJob, TResult> flight)
    {
        var context = ResilienceContextPool.Shared.Get(flight.Key, flight.HandlerToken);
        try
        {
            var result = await _pipeline.ExecuteOutcomeAsync(
                static (ctx, state) => state.Owner.RunAttemptAsync(state, ctx.CancellationToken),
                context,
                flight).ConfigureAwait(false);

            var attempts = flight.Attempts;
            if (result.Exception is null)
            {
                return JobOutcome<TResult>.Succeeded(flight.Key, result.Result!, JobRole.Leader, attempts);
            }

            return result.Exception is OperationCanceledException canceled && flight.HandlerToken.IsCancellationRequested
                ? JobOutcome<TResult>.Canceled(flight.Key, canceled, JobRole.Leader, attempts)
                : JobOutcome<TResult>.Failed(flight.Key, result.Exception, JobRole.Leader, attempts);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Outcome<TResult>> RunAttemptAsync(JobFlight<TJob, TResult> flight, CancellationToken cancellationToken)
    {
        var (job, context, elected) = flight.BeginAttempt();
        if (elected)
        {
            _counters.LeaderElection();
            Metrics.LeaderElections.Add(1, _nameTag);
            Log.LeaderElected(_logger, Name, flight.Key, context.Attempt);
        }

        using var activity = Metrics.ActivitySource.StartActivity("jobdedup.handle", ActivityKind.Internal);
        activity?.SetTag(JobDedupTelemetry.DeduplicatorTag, Name);
        activity?.SetTag("jobdedup.attempt", context.Attempt);
        var started = _timeProvider.GetTimestamp();
        try
        {
            var pending = _handler.HandleAsync(job, context, cancellationToken);
            var value = pending.IsCompletedSuccessfully
                ? pending.Result
                : await WaitForHandlerAsync(flight, pending, cancellationToken).ConfigureAwait(false);
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
            Metrics.HandlerDuration.Record(_timeProvider.GetElapsedTime(started).TotalSeconds, _nameTag);
        }
    }

    /// <summary>
    /// Waits for a handler, but no longer than its token allows: a handler that ignores cancellation is left behind
    /// (its late result ignored, its exception observed) so that no caller waits on it forever.
    /// </summary>
    private async Task<TResult> WaitForHandlerAsync(JobFlight<TJob, TResult> flight, ValueTask<TResult> pending, CancellationToken cancellationToken)
    {
        var task = pending.AsTask();
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!task.IsCompleted)
        {
            Log.HandlerLeftBehind(_logger, Name, flight.Key);
            _ = task.ContinueWith(
                static t => _ = t.Exception,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
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
            Log.OutcomeSaveFailed(_logger, Name, flight.Key, ex);
        }
    }

    private void CompleteFlight(JobFlight<TJob, TResult> flight, in JobOutcome<TResult> outcome)
    {
        if (!flight.TryComplete(outcome, replayed: false, out var waiters))
        {
            return;
        }

        Metrics.FlightsCompleted.Add(1, _nameTag, new("jobdedup.status", Metrics.StatusName(outcome.Status)));
        if (outcome.Status == JobStatus.Failed)
        {
            _counters.Error();
            Log.FlightFailed(_logger, Name, flight.Key, outcome.Attempts, waiters, outcome.Exception!);
        }
        else if (outcome.Status == JobStatus.Canceled && waiters == 0)
        {
            Log.FlightAbandoned(_logger, Name, flight.Key);
        }
    }
}
