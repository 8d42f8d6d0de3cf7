using JobDedup.Pipeline;
using JobDedup.Telemetry;

namespace JobDedup;

/// <content>Shutdown: stop intake, let running handlers finish within the timeout, cancel the rest; every caller gets an outcome.</content>
public sealed partial class JobDeduplicator<TJob, TResult>
{
    private readonly HashSet<JobFlight<TJob, TResult>> _activeFlights = [];
    private readonly Lock _activeSync = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Fires when shutdown begins (ends the waits of flights that have no token source of their own), and when it gives
    // up on running handlers (their handler token).
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _shutdown = new();
    private int _stopRequested;

    private bool IsStopping => Volatile.Read(ref _stopRequested) != 0;

    /// <summary>
    /// Stops the deduplicator: later <c>EnqueueAsync</c> calls throw <see cref="ObjectDisposedException"/>, jobs still
    /// queued and flights not yet running end as <see cref="JobStatus.Canceled"/>, running handlers get
    /// <see cref="JobDedupOptions{TJob}.ShutdownTimeout"/> to finish, then their tokens fire and their callers get a
    /// canceled outcome. Calling it again waits for the same stop.
    /// </summary>
    /// <param name="cancellationToken">Cuts the wait for running handlers short.</param>
    /// <returns>A task that completes when every caller has an outcome.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            _ = StopCoreAsync(cancellationToken);
        }

        return _stopped.Task;
    }

    /// <summary>Stops the deduplicator (see <see cref="StopAsync"/>) with no limit but the shutdown timeout.</summary>
    /// <returns>A task that completes when every caller has an outcome.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            _queue.Writer.TryComplete();
            await _dispatcher.ConfigureAwait(false); // queued jobs drain as canceled
            CancelQuietly(_stopping);

            var flights = ActiveFlights();
            var waiting = 0;
            foreach (var flight in flights)
            {
                if (!flight.IsRunning)
                {
                    waiting++;
                    flight.CancelHandler();
                }
            }

            LogSafely(static (logger, s) => Log.Stopping(logger, s.Name, s.Running, s.waiting), (Name, Running: flights.Length - waiting, waiting));
            try
            {
                await _drained.Task.WaitAsync(_options.ShutdownTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                var late = ActiveFlights();
                if (late.Length > 0)
                {
                    LogSafely(static (logger, s) => Log.ShutdownTimedOut(logger, s.Name, s.Length), (Name, late.Length));
                }

                CancelQuietly(_shutdown);
                foreach (var flight in late)
                {
                    flight.CancelHandler();
                    CompleteFlight(flight, ShuttingDown(flight.Key, JobRole.Leader, flight.Attempts));
                }
            }

            LogSafely(static (logger, name) => Log.Stopped(logger, name), Name);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's cancellation callback threw; the token fired all the same.
        }
    }

    private void Track(JobFlight<TJob, TResult> flight)
    {
        lock (_activeSync)
        {
            _activeFlights.Add(flight);
        }
    }

    private void Untrack(JobFlight<TJob, TResult> flight)
    {
        bool drained;
        lock (_activeSync)
        {
            _activeFlights.Remove(flight);
            drained = _activeFlights.Count == 0 && IsStopping;
        }

        if (drained)
        {
            _drained.TrySetResult();
        }
    }

    private JobFlight<TJob, TResult>[] ActiveFlights()
    {
        lock (_activeSync)
        {
            if (_activeFlights.Count == 0 && IsStopping)
            {
                _drained.TrySetResult(); // completes asynchronously for its awaiter, so safe under the lock
            }

            return [.. _activeFlights];
        }
    }

    private void ThrowIfStopping()
    {
        if (IsStopping)
        {
            throw new ObjectDisposedException(
                $"JobDeduplicator '{Name}'",
                $"Deduplicator '{Name}' is stopping or stopped and accepts no more jobs.");
        }
    }

    private static JobOutcome<TResult> ShuttingDown(string key, JobRole role, int attempts) =>
        JobOutcome<TResult>.Canceled(key, new OperationCanceledException("The deduplicator is shutting down."), role, attempts);
}
