using System.Diagnostics;
using JobDedup.Flights;
using JobDedup.Telemetry;
using Polly;
using Polly.Retry;

namespace JobDedup.Running;

/// <summary>
/// Runs a flight's attempts inside the resilience pipeline (retry, per-attempt timeout). Each attempt runs the job
/// of the flight's current leader, re-elected when the leader has left. A handler that ignores its token after its
/// attempt was given up is left behind: the flight records it and keeps its key until it ends.
/// </summary>
internal sealed class AttemptRunner<TJob, TResult>
{
    // The key travels in the resilience context's properties, which Polly's telemetry never exports as tags.
    private static readonly ResiliencePropertyKey<string> KeyProperty = new("jobdedup.key");

    private readonly IJobHandler<TJob, TResult> _handler;
    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly FlightCounters _counters;
    private readonly DeduplicatorMetrics _metrics;
    private readonly EngineLog _log;

    public AttemptRunner(
        IJobHandler<TJob, TResult> handler,
        JobDedupOptions<TJob> options,
        TimeProvider timeProvider,
        FlightCounters counters,
        DeduplicatorMetrics metrics,
        EngineLog log)
    {
        _handler = handler;
        _timeProvider = timeProvider;
        _counters = counters;
        _metrics = metrics;
        _log = log;
        _pipeline = HandlerPipeline.Create(options, timeProvider, OnRetry);
    }

    /// <summary>Runs the attempts; the outcome of the last one, as data (never throws).</summary>
    public async ValueTask<JobOutcome<TResult>> ExecuteAsync(JobFlight<TJob, TResult> flight)
    {
        if (ReferenceEquals(_pipeline, ResiliencePipeline.Empty))
        {
            // No retry and no timeout: one attempt, without the cost of a resilience context.
            return ToOutcome(flight, await RunAttemptAsync(flight, flight.HandlerToken).ConfigureAwait(false));
        }

        var context = ResilienceContextPool.Shared.Get(_log.Name, flight.HandlerToken);
        context.Properties.Set(KeyProperty, flight.Key);
        try
        {
            var result = await _pipeline.ExecuteOutcomeAsync(
                static (ctx, state) => state.Runner.RunAttemptAsync(state.Flight, ctx.CancellationToken),
                context,
                (Runner: this, Flight: flight)).ConfigureAwait(false);
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

    private void OnRetry(OnRetryArguments<object> args)
    {
        _counters.Retry();
        _metrics.Retried();
        var key = args.Context.Properties.GetValue(KeyProperty, string.Empty);
        _log.Write(
            static (logger, name, s) => Log.AttemptFailed(logger, name, s.key, s.Attempt, s.RetryDelay, s.Exception),
            (key, Attempt: args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception));
    }

    private async ValueTask<Outcome<TResult>> RunAttemptAsync(JobFlight<TJob, TResult> flight, CancellationToken cancellationToken)
    {
        Activity? activity = null;

        // The clock is read only when someone listens to the duration.
        var started = _metrics.IsDurationEnabled ? _timeProvider.GetTimestamp() : 0;
        try
        {
            var attempt = flight.NextAttempt();
            var (job, leaderChanged, electedNow) = flight.Waiters.ElectLeader();
            if (electedNow)
            {
                _counters.LeaderElection();
                _metrics.LeaderElected();
                _log.Write(static (logger, name, s) => Log.LeaderElected(logger, name, s.Key, s.attempt), (flight.Key, attempt));
            }

            activity = Tracing.StartRun(flight, _log.Name, attempt);
            var context = new JobContext(_log.Name, flight.Key, attempt, leaderChanged);
            var pending = _handler.HandleAsync(job, context, cancellationToken);
            var value = pending.IsCompletedSuccessfully
                ? pending.Result
                : await WaitForHandlerAsync(flight, attempt, pending, cancellationToken).ConfigureAwait(false);
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
    /// Waits for a handler, but no longer than its token allows. A handler that ignores its token is left behind: its
    /// callers get <see cref="HandlerStuckException"/> (or the cancellation) at once, and the flight holds the key,
    /// the slot and any claim until the handler ends; its late result is ignored and its exception observed.
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
            flight.LeftBehind = task;
            _log.Write(static (logger, name, key) => Log.HandlerLeftBehind(logger, name, key), flight.Key);
            if (flight.HandlerToken.IsCancellationRequested)
            {
                throw; // every caller left, or shutdown: the flight is canceled anyway
            }

            throw new HandlerStuckException(
                $"Attempt {attempt} for key '{flight.Key}' timed out and its handler did not stop; it is not retried while it may still be running.",
                canceled);
        }
    }
}
